import { defineCommand } from "citty";

export default defineCommand({
  meta: {
    name: "client",
    description: "The sharding client: place records, check them, show the mapping",
  },
  subCommands: {
    run: () => import("./run.ts").then((m) => m.default),
    verify: () => import("./verify.ts").then((m) => m.default),
    ring: () => import("./ring.ts").then((m) => m.default),
  },
});
