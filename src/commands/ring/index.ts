/** `shardctl ring`: look at the placement rule (and, with `check`, at the ring each instance holds). */
import { defineCommand } from "citty";

export default defineCommand({
  meta: {
    name: "ring",
    description:
      "Inspect the hash ring: placement, balance, changes, the rings held\n\n" +
      "Where ids go, how balanced the ring is, what a change would move, a picture of it, and which ring the instances hold.",
  },
  subCommands: {
    show: () => import("./show.ts").then((m) => m.default),
    stats: () => import("./stats.ts").then((m) => m.default),
    diff: () => import("./diff.ts").then((m) => m.default),
    draw: () => import("./draw.ts").then((m) => m.default),
    check: () => import("./check.ts").then((m) => m.default),
  },
});
