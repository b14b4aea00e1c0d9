import { defineCommand } from "citty";

export default defineCommand({
  meta: {
    name: "client",
    description: "The sharding client: put each record on its owner, check the cluster, show the mapping",
  },
  subCommands: {
    run: () => import("./run.ts").then((m) => m.default),
    verify: () => import("./verify.ts").then((m) => m.default),
    ring: () => import("./ring.ts").then((m) => m.default),
  },
});
