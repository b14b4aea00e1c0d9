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

/**
 * PUT /ring's body, for the document: a ring file (src/ring/ring-file.ts reads it), GET
 * /ring's answer included; its epoch is required. requestRing checks it, with its own messages.
 */
export const RingFileBody = t.Object(
  {
    epoch: t.Integer({ minimum: 0, description: "larger than the instance's ring's" }),
    vnodes: t.Optional(t.Integer({ minimum: 1, description: "default 160" })),
    nodes: t.Array(
      t.Union([
        t.String({ description: "[name=]host:port[:weight], as in --nodes" }),
        t.Object(
          {
            name: t.Optional(t.String({ description: "default host:port" })),
            url: t.Optional(t.String({ description: "http://host:port (or host and port)" })),
            host: t.Optional(t.String()),
            port: t.Optional(t.Union([t.Integer({ minimum: 1, maximum: 65535 }), t.String()])),
            weight: t.Optional(t.Number({ exclusiveMinimum: 0, description: "default 1" })),
          },
          { additionalProperties: false },
        ),
      ]),
      { minItems: 1 },
    ),
    fingerprint: t.Optional(t.String({ description: "when given, it must match the file's ring" })),
    label: t.Optional(t.String({ description: "<epoch>:<fingerprint>; when given, it must match" })),
    rebalance: t.Optional(t.Unknown({ description: "what GET /ring says of a rebalance: ignored" })),
  },
  { additionalProperties: false },
);
