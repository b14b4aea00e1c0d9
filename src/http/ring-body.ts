import { t } from "elysia";
import { RebalanceSummary } from "../rebalance/protocol.ts";

/** GET /ring's body: a ring file. */
export const RingBody = t.Object({
  epoch: t.Integer({ minimum: 0 }),
  fingerprint: t.String({ description: "16 hex digits of SHA-256 over what decides placement" }),
  vnodes: t.Integer({ minimum: 1 }),
  nodes: t.Array(t.Object({ name: t.String(), url: t.String(), weight: t.Number() })),
  label: t.String({ description: "<epoch>:<fingerprint>, as in X-Shard-Ring", examples: ["1:0123456789abcdef"] }),
  rebalance: t.Optional(
    t.Composite([RebalanceSummary], { description: "the rebalance this node takes part in, or took part in last (a ring file ignores it)" }),
  ),
});
