/**
 * Headers across the router's hop (RFC 9110 7.6.1): hop-by-hop headers, and those a
 * Connection header names, belong to one connection and are never passed on, in
 * either direction. The instance learns who asked (X-Forwarded-For/-Host/-Proto) and
 * the request's X-Request-Id, the client's own or one made here.
 */
import { RING_HEADER } from "../ring/ring.ts";
import { givenRequestId } from "../http/request-log.ts";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/**
 * Set by the router itself or by the connection: the Host is the instance's, the length
 * is that of the body sent, the router asks for the identity encoding (it reads a listing
 * page's JSON, and passes any other answer on byte for byte with its Content-Encoding),
 * and the ring a request is placed with is the router's.
 */
const REQUEST_OWN = ["host", "content-length", "accept-encoding", "x-request-id", "x-forwarded-host", "x-forwarded-proto", RING_HEADER];
/** The length is that of the body the router sends; the Date and Server are the router's. */
const ANSWER_OWN = ["content-length", "date", "server"];

/** A copy of `headers` without the hop-by-hop ones, those their Connection names, and `own`. */
function endToEnd(headers: Headers, own: readonly string[]): Headers {
  const out = new Headers(headers);
  const named = headers.get("connection");
  if (named !== null) for (const name of named.split(",")) out.delete(name.trim());
  for (const name of HOP_BY_HOP) out.delete(name);
  for (const name of own) out.delete(name);
  return out;
}

/** The client's X-Request-Id when it is a sane one, else a new UUID. */
export function requestIdOf(request: Request): string {
  return givenRequestId(request) ?? crypto.randomUUID();
}

/** The headers sent to the instance for `request`, placed with the ring labelled `ringLabel`. */
export function headersToInstance(request: Request, requestId: string, clientAddress: string | undefined, ringLabel: string): Headers {
  const out = endToEnd(request.headers, REQUEST_OWN);
  if (clientAddress !== undefined) {
    const before = request.headers.get("x-forwarded-for");
    out.set("x-forwarded-for", before ? `${before}, ${clientAddress}` : clientAddress);
  }
  const host = request.headers.get("host");
  if (host !== null) out.set("x-forwarded-host", host);
  out.set("x-forwarded-proto", "http");
  // explicitly: without it a fetch may ask for gzip, br, ... on its own
  out.set("accept-encoding", "identity");
  out.set("x-request-id", requestId);
  out.set(RING_HEADER, ringLabel);
  return out;
}

/** The headers of an instance's answer as the router passes it on, plus where it came from. */
export function headersToClient(answer: Headers, instanceUrl: string, requestId: string): Headers {
  const out = endToEnd(answer, ANSWER_OWN);
  out.set("x-shard-url", instanceUrl);
  out.set("x-request-id", requestId);
  return out;
}
