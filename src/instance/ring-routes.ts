/**
 * The ring of an instance over HTTP: `GET /ring` (anyone; 404 without a ring) and
 * `PUT /ring` (admin: adopts a ring with a larger epoch, else 409 naming both rings).
 */
import { Elysia } from "elysia";
import { ApiError } from "../errors.ts";
import { ADMIN_TAG } from "../http/openapi-document.ts";
import { RingBody, RingFileBody } from "../http/ring-body.ts";
import { ErrorBody, NoQuery } from "../expenses/model.ts";
import { RING_HEADER } from "../ring/ring.ts";
import { authorizeAdmin, type AdminPolicy } from "./admin.ts";
import type { Rebalancing } from "./rebalance/rebalancing.ts";
import { ringDocument } from "../ring/ring-file.ts";
import type { RingGuard } from "./ring-guard.ts";
import { requestRing } from "./request-ring.ts";

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
            `node ${guard.self} has no ring: it was started without one (--ring, --nodes, --vnodes or SHARDCTL_RING, ` +
              `SHARDCTL_NODES, SHARDCTL_VNODES) and checks no ownership`,
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
        const ring = requestRing(body, "ring", "the body");
        const result = await guard.adopt(ring, () => rebalancing?.ringChangeAllowed());
        if (!result.adopted) {
          const same = result.current === ring.label ? " (it is the ring this instance holds)" : "";
          throw new ApiError(
            409,
            "ring_not_newer",
            `ring ${ring.label} is not newer than this instance's ring ${result.current}${same}: a ring replaces another ` +
              `only with a larger epoch; nothing changed`,
            "epoch",
            { body: { ring: result.current, offered: ring.label } },
          );
        }
        set.headers[RING_HEADER] = ring.label;
        const was = result.previous ? `; it replaces ring ${result.previous.label}` : " (it had none)";
        const member = result.member ? "" : `; node ${guard.self} is not in it: it owns no ids and answers 421 for every one`;
        note(`node ${guard.self}: adopted ring ${ring.label}${was}${member}`);
        return ringDocument(ring);
      },
      {
        query: NoQuery,
        response: { 200: RingBody, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody, 422: ErrorBody, 503: ErrorBody },
        detail: {
          summary:
            "Admin: adopt a ring (a ring file with an epoch larger than this instance's). Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>; " +
            "without that variable, loopback only. The ring is saved to the database before it is in force; no request runs under a mix of the two",
          tags: [ADMIN_TAG],
          // the body is read by requestRing (its own messages, 422 invalid_ring), not by a schema: described here
          // (a t schema is JSON Schema, which the typings of an OpenAPI schema object do not know)
          requestBody: { required: true, content: { "application/json": { schema: RingFileBody as never } } },
        },
      },
    );
}
