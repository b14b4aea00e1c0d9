/**
 * The ring of an instance over HTTP: `GET /ring` (anyone; 404 without a ring) and
 * `PUT /ring` (admin: adopts a ring with a larger epoch, else 409 naming both rings).
 */
import { Elysia, t } from "elysia";
import { ApiError } from "../errors.ts";
import { ErrorBody, NoQuery } from "../expenses/model.ts";
import { DEFAULT_VNODES, RingError } from "../ring/hash-ring.ts";
import { NodeListError } from "../ring/node.ts";
import { parseRingDocument } from "../ring/ring-file.ts";
import { Ring, RING_HEADER } from "../ring/ring.ts";
import { authorizeAdmin, type AdminPolicy } from "./admin.ts";
import { RebalanceSummary } from "./rebalance-model.ts";
import type { Rebalancing } from "./rebalance.ts";
import { ringDocument, type RingGuard } from "./ring-guard.ts";

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

function ringOfBody(body: unknown): Ring {
  try {
    const file = parseRingDocument(body, { requireEpoch: true, what: "the body" });
    return new Ring(file.nodes, { vnodes: file.vnodes ?? DEFAULT_VNODES, epoch: file.epoch });
  } catch (e) {
    if (e instanceof NodeListError || e instanceof RingError) {
      throw new ApiError(422, "invalid_ring", `ring: ${e.message}; nothing changed`);
    }
    throw e;
  }
}

export function ringFeature(guard: RingGuard, admin: AdminPolicy, note: (line: string) => void, rebalancing?: Rebalancing) {
  return new Elysia({ name: "ring", seed: guard.self })
    .get(
      "/ring",
      () => {
        const ring = guard.ring;
        if (!ring) {
          throw new ApiError(
            404,
            "no_ring",
            `node ${guard.self} has no ring: it was started without one (--ring, --nodes, --vnodes or SHARDCTL_RING, SHARDCTL_NODES, SHARDCTL_VNODES) and checks no ownership`,
          );
        }
        const rebalance = rebalancing?.summary();
        return rebalance ? { ...ringDocument(ring), rebalance } : ringDocument(ring);
      },
      {
        query: NoQuery,
        response: { 200: RingBody, 404: ErrorBody },
        detail: { summary: "The ring this instance holds (a ring file); 404 when it has none", tags: ["ring"] },
      },
    )
    .put(
      "/ring",
      async ({ body, request, set }) => {
        authorizeAdmin(admin, request, "PUT /ring");
        const ring = ringOfBody(body);
        const result = await guard.adopt(ring, () => rebalancing?.ringChangeAllowed());
        if (!result.adopted) {
          const same = result.current === ring.label ? " (it is the ring this instance holds)" : "";
          throw new ApiError(
            409,
            "ring_not_newer",
            `ring ${ring.label} is not newer than this instance's ring ${result.current}${same}: a ring replaces another only with a larger epoch; nothing changed`,
            "epoch",
            { body: { ring: result.current, offered: ring.label } },
          );
        }
        set.headers[RING_HEADER] = ring.label;
        const was = result.previous ? `replaces ring ${result.previous.label}` : "(it had none)";
        const member = result.member ? "" : `; node ${guard.self} is not in it: it owns no ids and answers 421 for every one`;
        note(`[${guard.self}] ring ${ring.label} adopted ${was}${member}`);
        return ringDocument(ring);
      },
      {
        query: NoQuery,
        response: { 200: RingBody, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody, 422: ErrorBody, 503: ErrorBody },
        detail: {
          summary:
            "Admin: adopt a ring (a ring file with an epoch larger than this instance's). Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>; " +
            "without that variable, loopback only. The ring is saved to the database before it is in force; no request runs under a mix of the two",
          tags: ["ring"],
        },
      },
    );
}
