/** Routers and stand-in nodes for the router tests. */
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { Ring } from "../../src/ring/ring.ts";
import { startRouter, type Router, type RouterOptions } from "../../src/router/index.ts";

export interface NodeAt {
  readonly name: string;
  readonly url: string;
}

/** A router in this process over `nodes` (160 vnodes, weight 1), request log off unless given. */
export function routerFor(nodes: readonly NodeAt[], options: Partial<RouterOptions> = {}): Router {
  const ring = new Ring(
    nodes.map((n) => ({ ...n, weight: 1 })),
    { vnodes: 160 },
  );
  return startRouter({ port: 0, ring, log: false, ...options });
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string;
  /** The client port of the connection it came on. */
  readonly peerPort: number;
}

export interface StubNode extends NodeAt {
  /** Every request it received, in order. */
  readonly seen: SeenRequest[];
  stop(): void;
}

/**
 * A local HTTP server standing in for a node, answering with `answer` (it may delay or
 * misbehave), and keeping what it received.
 */
export function stubNode(name: string, answer: (request: SeenRequest) => Response | Promise<Response>): StubNode {
  const seen: SeenRequest[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request, srv) {
      const url = new URL(request.url);
      const got: SeenRequest = {
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
        body: await request.text(),
        peerPort: srv.requestIP(request)?.port ?? 0,
      };
      seen.push(got);
      return answer(got);
    },
  });
  return { name, url: `http://127.0.0.1:${server.port}`, seen, stop: () => void server.stop(true) };
}

/** The answer of a shardctl instance called `name`: JSON with its X-Shard-Node. */
export function nodeAnswer(name: string, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "x-shard-node": name, ...headers } });
}

/** A node that holds every answer (the seed record 1) until `release()`: a request stays in flight as long as a test needs. */
export function heldNode(name: string): StubNode & { release(): void } {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const stub = stubNode(name, async () => {
    await held;
    return nodeAnswer(name, { ...seedRecord("1"), status: "pending", decision_date: "" });
  });
  return { ...stub, release: () => release() };
}
