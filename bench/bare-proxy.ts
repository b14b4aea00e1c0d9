/**
 * The least a router can do, for bench:router's comparison: Bun.serve, the owner from the
 * ring, one fetch to it, the answer passed back. No validation, header hygiene, timeout,
 * retry or log. `bun bench/bare-proxy.ts PORT name=host:port,...` (160 vnodes).
 */
import { parseNodeList } from "../src/ring/node.ts";
import { Ring } from "../src/ring/ring.ts";

const [port, nodes] = [Number(process.argv[2]), process.argv[3]!];
const ring = new Ring(parseNodeList(nodes), { vnodes: 160 });
const PREFIX = "/v1/expenses/";
Bun.serve({
  port,
  hostname: "127.0.0.1",
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const owner = ring.ownerOf(pathname.slice(PREFIX.length));
    const answer = await fetch(owner.url + pathname);
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
  },
});
