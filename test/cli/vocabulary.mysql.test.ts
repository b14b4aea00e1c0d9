/**
 * One vocabulary for a node's condition, whoever reports it: `down` (no answer) and `not
 * ready` (it answers, its database does not serve). Node b is a real instance whose
 * MariaDB has stopped, node c is not running at all; client run, status, the router's
 * /readyz and the instance itself say what each is, each word once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startRouter, type Router } from "../../src/router/server.ts";
import { localNodes, ringOf, startCluster, type RingCluster } from "../support/cluster.ts";
import { runCli } from "../support/cli.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";

/** What a message must never say: a word said twice in a row (`database unavailable: database unavailable`, `ECONNREFUSED connect ECONNREFUSED`). */
function expectNoRepeats(text: string) {
  expect(text).not.toMatch(/database unavailable: database unavailable|ECONNREFUSED connect ECONNREFUSED|database: database|records: not sent/);
}

describe.skipIf(!!mysqlUnavailable)("down and not ready, said alike everywhere", () => {
  let server: MariaDB;
  let cluster: RingCluster;
  let router: Router;
  let nodes: string;
  let notReady: string;

  beforeAll(async () => {
    server = await startMariaDB();
    nodes = await localNodes(["a", "b", "c"]);
    const ring = ringOf(nodes);
    cluster = await startCluster({ ring, nodes: ring.nodes.slice(0, 2), db: (name) => (name === "b" ? server.url("vocabulary_b") : `sqlite::memory:`) });
    await server.halt();
    notReady = `the database cannot be reached: connect ECONNREFUSED 127.0.0.1:${server.port}`;
    // the first check after the stop may still meet a pooled connection the server closed; from then on it is refused
    await fetch(`${cluster.url("b")}/readyz`);
    router = startRouter({ port: 0, ring, log: false, note: () => {} });
  }, 60_000);
  afterAll(async () => {
    await router?.stop();
    await cluster?.stop();
    await server?.stop();
  });

  const urlOf = (name: string) =>
    `http://${nodes
      .split(",")
      .find((n) => n.startsWith(`${name}=`))!
      .slice(2)}`;

  test("the instance says why it is not ready, once", async () => {
    const r = await fetch(`${urlOf("b")}/readyz`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { message: string }).message).toBe(notReady);
  });

  test("client run: ids of a node kept back by its circuit are 'not sent (node X down)' or '(node X not ready)', not '503 http' or 'refused'", async () => {
    const r = await runCli("client", "run", "--nodes", nodes, "--ids", "1..30", "--wide");
    expect(r.code).toBe(1);
    const rows = r.stdout.split("\n");
    const onB = rows.filter((l) => /^ *\d+ +b +/.test(l));
    const onC = rows.filter((l) => /^ *\d+ +c +/.test(l));
    expect(onB.length).toBeGreaterThan(0);
    expect(onC.length).toBeGreaterThan(0);
    const escaped = notReady.replace(/[.()?]/g, "\\$&");
    for (const row of onB) expect(row).toMatch(new RegExp(`^ *\\d+ +b +not sent \\(node b not ready\\) +skipped +${escaped}, found by the pre-flight check$`));
    for (const row of onC)
      expect(row).toMatch(/^ *\d+ +c +not sent \(node c down\) +skipped +connection refused \(is the instance running\?\), found by the pre-flight check$/);
    expect(r.stdout).not.toMatch(/503 http|\brefused {2}/);
    const err = r.stderr.split("\n");
    expect(err).toContain(`  node b (${urlOf("b")}): ${onB.length} ids; not ready: ${notReady}, found by the pre-flight check`);
    expect(err).toContain(`  node c (${urlOf("c")}): ${onC.length} ids; down: connection refused (is the instance running?), found by the pre-flight check`);
    expect(err.filter((l) => l.startsWith("    POST not sent (node b not ready): "))).toHaveLength(1);
    expectNoRepeats(r.stdout + r.stderr);
  });

  test("client verify: a listing kept back is 'not sent', not 'failed after 0 records: not sent'", async () => {
    const r = await runCli("client", "verify", "--nodes", nodes, "--ids", "1..30");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`node b (${urlOf("b")}): listing not sent: node not ready: ${notReady}, found by the pre-flight check (verify is incomplete)`);
    expect(r.stderr).toContain(`node c (${urlOf("c")}): listing not sent: node down: connection refused`);
    expectNoRepeats(r.stdout + r.stderr);
  });

  test("status: the same words, state and reason", async () => {
    const r = await runCli("status", "--nodes", nodes);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^b +\S+ {2}not ready /m);
    expect(r.stdout).toMatch(/^c +\S+ {2}down {7}/m);
    expect(r.stderr).toContain(`node b (${urlOf("b")}): not ready: ${notReady}`);
    expect(r.stderr).toContain(`node c (${urlOf("c")}): down: connection refused`);
    expectNoRepeats(r.stdout + r.stderr);
  });

  test("the router's /readyz: the same words", async () => {
    const r = await fetch(`${router.url}/readyz`);
    expect(r.status).toBe(503);
    const body = (await r.json()) as { message: string; nodes: { name: string; message?: string }[] };
    expect(body.nodes.find((n) => n.name === "b")!.message).toBe(`not ready: ${notReady}`);
    expect(body.nodes.find((n) => n.name === "c")!.message).toStartWith("down: connection refused");
    expectNoRepeats(body.message);
  });
});
