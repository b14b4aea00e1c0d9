/**
 * Admin requests (PUT /ring; the rebalance's requests later): they change what the
 * instance owns, so they need `Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>`. An
 * instance started without a token accepts them from loopback addresses only, judged
 * by the peer address of the connection (never by a header a client can write).
 * Every refusal is a 403 that says what would be accepted.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiError } from "../errors.ts";

export interface AdminPolicy {
  /** The token admin requests must present; undefined or "": loopback peers only. */
  readonly token?: string;
  /** The peer address of the connection a request came on; undefined when not known (no socket). */
  readonly peerAddress: (request: Request) => string | undefined;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 spelling. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (a === "::1" || /^(0{0,4}:){7}0{0,3}1$/.test(a)) return true;
  const v4 = a.startsWith("::ffff:") ? a.slice("::ffff:".length) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Throws ApiError 403 unless `request` may make an admin request (`what` names it in messages). */
export function authorizeAdmin(policy: AdminPolicy, request: Request, what: string): void {
  const token = policy.token || undefined;
  if (token === undefined) {
    const peer = policy.peerAddress(request);
    if (isLoopback(peer)) return;
    throw new ApiError(
      403,
      "forbidden",
      `${what} is an admin request; this instance was started without SHARDCTL_ADMIN_TOKEN, so it takes admin requests ` +
        `from loopback addresses only, and this one came from ${peer ?? "an unknown address"}`,
    );
  }
  const header = request.headers.get("authorization");
  const given = header && /^Bearer +(\S+)\s*$/i.exec(header)?.[1];
  if (!given) {
    throw new ApiError(403, "forbidden", `${what} is an admin request: send Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>`, undefined, {
      headers: { "www-authenticate": "Bearer" },
    });
  }
  // Compared as digests, in constant time: the answer's timing says nothing about the token.
  if (!timingSafeEqual(digest(given), digest(token))) {
    throw new ApiError(403, "forbidden", `${what}: the bearer token is not this instance's SHARDCTL_ADMIN_TOKEN`);
  }
}
