/**
 * After a 413, on an instance and on the router: a client that writes its whole body before
 * reading (Python's http.client and urllib) reads the 413, not a broken pipe, because the
 * server reads and drops the rest of the body first; but only so much and so long
 * (LINGER_BYTES, LINGER_MS): a body that trickles on is answered and closed at the bound.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { LINGER_BYTES, LINGER_MS } from "../../src/http/body.ts";
import type { Router } from "../../src/router/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { skipBecause } from "../support/skip.ts";
import { routerFor } from "../router/support.ts";

const hasPython = Bun.spawnSync(["python3", "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
const noPython = skipBecause("the 413 read by Python's http.client", hasPython ? undefined : "python3 is not on PATH");

/** Python's http.client and urllib, each sending a body of `size` bytes (declared, and chunked) in full before reading. */
const PYTHON = `
import http.client, json, sys, urllib.request, urllib.error
port, size = int(sys.argv[1]), int(sys.argv[2])
body = b'{"id":"1","name":"' + b"a" * size + b'"}'
out = []
def answer(status, data):
    out.append([status, json.loads(data).get("error")])
try:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request("POST", "/v1/expenses", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse(); answer(r.status, r.read())
except Exception as e:
    out.append(["http.client", type(e).__name__])
try:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    c.request("POST", "/v1/expenses", body=chunks, headers={"Content-Type": "application/json"}, encode_chunked=True)
    r = c.getresponse(); answer(r.status, r.read())
except Exception as e:
    out.append(["http.client chunked", type(e).__name__])
try:
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/expenses", data=body, headers={"Content-Type": "application/json"}), timeout=20)
    out.append(["urllib", "no error"])
except urllib.error.HTTPError as e:
    answer(e.code, e.read())
except Exception as e:
    out.append(["urllib", type(e).__name__])
print(json.dumps(out))
`;

let cluster: Cluster;
let router: Router;
beforeAll(async () => {
  cluster = await startCluster({ nodes: ["a"], db: () => "sqlite::memory:" });
  router = routerFor(cluster.nodes);
});
afterAll(async () => {
  await router?.stop();
  await cluster?.stop();
});

const portOf = (server: string) => Number(new URL(server === "router" ? router.url : cluster.url("a")).port);

describe.each(["instance", "router"])("the %s", (server) => {
  test.skipIf(!!noPython)(
    "a client that writes a 4 MiB body before it reads gets the 413 (http.client, chunked, urllib)",
    async () => {
      // the body runs in its own process: a server in this one must keep answering meanwhile
      const python = Bun.spawn(["python3", "-c", PYTHON, String(portOf(server)), String(4 << 20)], { stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(python.stdout).text(), new Response(python.stderr).text(), python.exited]);
      expect(err).toBe("");
      const answers = JSON.parse(out);
      expect(answers).toEqual([
        [413, "body_too_large"],
        [413, "body_too_large"],
        [413, "body_too_large"],
      ]);
    },
    60_000,
  );

  test("a chunked body that trickles on past the limit is answered 413 and closed after LINGER_MS, not read for ever", async () => {
    const socket = connect(portOf(server), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let answer = "";
    let closed = false;
    let answeredAt = 0;
    socket.on("data", (c) => {
      answer += c.toString("latin1");
      answeredAt ||= performance.now();
    });
    socket.on("close", () => (closed = true));
    socket.on("error", () => (closed = true));
    socket.write("POST /v1/expenses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    // past the 64 KiB limit at once, then 1 KiB every 20 ms: well within LINGER_BYTES, never ending
    socket.write(`20000\r\n${"a".repeat(0x20000)}\r\n`);
    const overAt = performance.now();
    while (!closed && performance.now() - overAt < LINGER_MS + 5000) {
      socket.write(`400\r\n${"a".repeat(0x400)}\r\n`);
      await Bun.sleep(20);
    }
    socket.destroy();
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(answer.toLowerCase()).toContain("connection: close");
    expect(closed).toBe(true);
    // answered once the lingering read was over: not at once, and not much later than its bound
    expect(answeredAt - overAt).toBeGreaterThanOrEqual(LINGER_MS - 200);
    expect(answeredAt - overAt).toBeLessThan(LINGER_MS + 3000);
    expect(LINGER_BYTES).toBeLessThanOrEqual(16 << 20);
  }, 30_000);
});
