/**
 * Misbehaving nodes for the client's fault tests: local servers that answer the pre-flight
 * check (`/readyz`) as an instance named `name` would, then do what an instance must
 * not. Each has `stop()`; `requests()` counts the requests past the check.
 */
export interface FakeNode {
  readonly url: string;
  readonly port: number;
  requests(): number;
  stop(): void;
}

/** A server that answers `/readyz` as instance `name` (unless `checkToo`) and every other request with `answer`. */
function fakeNode(name: string, answer: () => Response | Promise<Response>, { checkToo = false } = {}): FakeNode {
  let requests = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(req) {
      if (!checkToo && new URL(req.url).pathname === "/readyz") return Response.json({ ready: true }, { headers: { "x-shard-node": name } });
      requests++;
      return answer();
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, port: server.port!, requests: () => requests, stop: () => server.stop(true) };
}

/** Answers `/readyz` and hangs on every other request (a frozen database, no query timeout). */
export function hangingOnRequests(name: string): FakeNode {
  return fakeNode(name, () => new Promise<Response>(() => {}));
}

/** Accepts connections and never answers anything, not even the check. */
export function hungListener(): FakeNode {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  return { url: `http://127.0.0.1:${listener.port}`, port: listener.port, requests: () => 0, stop: () => listener.stop(true) };
}

/**
 * Answers 200 with a body that never ends: every request, or every one but `/readyz` with
 * `readyOk`. `streamed()` counts the bytes it has handed to the socket.
 */
export function endlessBodies(name: string, { readyOk = false } = {}): FakeNode & { streamed(): number } {
  let streamed = 0;
  const node = fakeNode(
    name,
    () =>
      new Response(
        endlessBody((n) => (streamed += n)),
        { headers: { "x-shard-node": name, "content-type": "application/json" } },
      ),
    {
      checkToo: !readyOk,
    },
  );
  return { ...node, streamed: () => streamed };
}

/** A body of spaces that never ends, 64 KiB a chunk as the reader pulls; `sent` hears each chunk's size. */
export function endlessBody(sent: (bytes: number) => void): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      sent(65536);
      c.enqueue(new Uint8Array(65536).fill(0x20));
    },
  });
}
