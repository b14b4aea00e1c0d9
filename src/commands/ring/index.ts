/** `shardctl ring`: look at the placement rule (and, with `check`, at the ring each instance holds). */
import { defineCommand } from "citty";

export default defineCommand({
  meta: {
    name: "ring",
    description: "Inspect the consistent hash ring: where ids go, how balanced it is, what a change would move, which ring the instances hold",
  },
  subCommands: {
    show: () => import("./show.ts").then((m) => m.default),
    stats: () => import("./stats.ts").then((m) => m.default),
    diff: () => import("./diff.ts").then((m) => m.default),
    draw: () => import("./draw.ts").then((m) => m.default),
    check: () => import("./check.ts").then((m) => m.default),
  },
});
