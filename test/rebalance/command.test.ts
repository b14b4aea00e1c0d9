/**
 * `shardctl rebalance` as a command, on instances with SQLite files: what is bad usage
 * (exit 2, nothing changed), a second rebalance refused naming the first (exit 1), the
 * text report, --keep-data, and the move itself on the embedded store.
 */
import { afterAll, describe, expect, setDefaultTimeout, spyOn, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Interrupted } from "../../src/errors.ts";
import { rebalance } from "../../src/rebalance/run.ts";
import { RebalanceFailed } from "../../src/rebalance/errors.ts";
import { Ring } from "../../src/ring/ring.ts";
import { runCli } from "../support/cli.ts";
import { call } from "../support/http.ts";
import { expectPlacedOnce, JOINING, range, RebalanceCluster, seedRow, withCluster } from "./cluster.ts";

setDefaultTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), "shardctl-rebalance-command-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const ringFile = (doc: unknown) => {
  const path = join(dir, `ring-${files++}.json`);
  writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
  return path;
};
const fileOf = (ring: Ring) => ringFile({ epoch: ring.epoch, vnodes: ring.vnodes, nodes: ring.nodes });

/** Nothing of a rebalance on any node. */
async function expectUntouched(c: RebalanceCluster) {
  for (const i of c.instances.values()) expect((await call(i.url, "GET", "/ring")).json.rebalance).toBeUndefined();
}

describe("shardctl rebalance: bad usage is exit 2 and changes nothing", () => {
  test("no --to, a ring file that does not parse, an epoch not larger, a bad --concurrency", async () => {
    await withCluster({ old: ["a", "b"], next: ["a", "b", "c"] }, 0, async (c) => {
      const cases: [string[], RegExp][] = [
        [[], /--to NEW\.json is required/],
        [["--to", ringFile("{nodes:")], /--to .*ring-\d+\.json: not valid JSON/],
        [["--to", join(dir, "missing.json")], /--to .*missing\.json: cannot read the ring file \(ENOENT\)/],
        [["--to", ringFile({ epoch: 2, nodes: ["a=127.0.0.1:1"], wieght: 2 })], /unknown key "wieght"/],
        [
          ["--from", c.newFile, "--to", c.oldFile],
          /--to .* has epoch 1, not larger than --from .*'s 2: a ring replaces another only with a larger epoch \(give the new ring "epoch": 3\)/,
        ],
        [["--from", c.oldFile, "--to", fileOf(new Ring(c.next.nodes, { vnodes: 160, epoch: 1 }))], /--to .* has epoch 1, not larger than --from .*'s 1/],
        [["--to", c.newFile, "--concurrency", "0"], /--concurrency must be from 1 to 64, got 0/],
        [["--to", c.newFile, "--frm", c.oldFile], /unknown option --frm; did you mean --from\?/],
      ];
      for (const [args, message] of cases) {
        const r = await runCli("rebalance", ...args);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.stderr).toMatch(message);
      }
      await expectUntouched(c);
    });
  });

  test("a node of the new ring that is not up, or that has no ring; a node leaving that is down", async () => {
    await withCluster({ old: ["a", "b", "c"], next: ["a", "b", "d"] }, 0, async (c) => {
      await c.stopNode("d");
      const down = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect(down.code).toBe(2);
      expect(down.stderr).toContain(`node d (${c.next.node("d")!.url}) of the new ring ${c.next.label} is not up: connection refused`);
      expect(down.stderr).toContain("start it (shardctl serve --ring NEW.json --name d) before the rebalance");
      await c.startNode("d");
      await c.stopNode("c");
      const leaving = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect(leaving.code).toBe(2);
      expect(leaving.stderr).toContain(`node c (${c.old.node("c")!.url}) of the old ring ${c.old.label} is not up`);
      expect(leaving.stderr).toContain("a node that leaves must stay up until the rebalance ends");
      await c.startNode("c");
      await expectUntouched(c);
    });
  });

  test("without --from, instances that hold different rings", async () => {
    await withCluster({ old: ["a", "b"], next: ["a", "b", "c"] }, 0, async (c) => {
      const other = new Ring(c.old.nodes, { vnodes: 40, epoch: 5 });
      expect((await call(c.instances.get("b")!.url, "PUT", "/ring", { ...other.toJSON(), label: other.label })).status).toBe(200);
      const r = await runCli("rebalance", "--to", c.newFile);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("the nodes of the new ring hold different rings");
      expect(r.stderr).toContain("give --from OLD.json");
    });
  });
});

describe("shardctl rebalance: one at a time", () => {
  test("while another process holds the rebalance it is refused naming it; another rebalance is refused naming the unfinished one; once the holder is gone it is taken over", async () => {
    const c = await RebalanceCluster.start({ old: ["a", "b"], next: ["a", "b", "c"] });
    // a rebalance held by another live process on every node (as a running shardctl rebalance would)
    const other = Bun.spawn(["sleep", "60"]);
    try {
      await c.seed(range(1, 300));
      const token = "a-live-holders-token";
      const holder = { pid: other.pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" };
      const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });
      for (const name of c.names) {
        const r = await call(c.instances.get(name)!.url, "POST", "/rebalance/lease", { from: doc(c.old), to: doc(c.next), token, expect: null, holder });
        expect(r.status).toBe(200);
      }
      const same = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect(same.code).toBe(1);
      expect(same.stderr).toContain(
        `shardctl rebalance: lease: rebalance ${c.old.label} -> ${c.next.label} is running: held by pid ${other.pid} on ${hostname()}`,
      );
      expect(same.stderr).toContain("wait for it to end, or stop that process and run this command again");

      const third = new Ring([...c.next.nodes], { vnodes: 40, epoch: 3 });
      const another = await runCli("rebalance", "--from", c.newFile, "--to", fileOf(third));
      expect(another.code).toBe(1);
      expect(another.stderr).toContain(`another rebalance is in progress: ${c.old.label} -> ${c.next.label} (phase copying on node a`);
      expect(another.stderr).toContain(`held by pid ${other.pid} on ${hostname()}`);

      // once that process is gone, the same command takes the rebalance over and finishes it
      other.kill("SIGKILL");
      await other.exited;
      const resumed = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      expect([resumed.code, JSON.parse(resumed.stdout).found]).toEqual([0, "unfinished"]);
      expect(resumed.stderr).toBe(
        `shardctl rebalance: took over rebalance ${c.old.label} -> ${c.next.label} from pid ${other.pid} on ${hostname()}: its process ${other.pid} on this host is gone`,
      );
      const rows = await c.rows();
      for (const [node, held] of rows) for (const id of held.keys()) expect({ id, node }).toEqual({ id, node: c.newOwner(id) });
    } finally {
      other.kill("SIGKILL");
      await c.stop();
    }
  });
});

describe("two rebalances that race for the lease", () => {
  // Both can pass the check for another rebalance; the lease, node by node in name order,
  // decides. Deterministic here: the winner leases right between the loser's survey and its
  // lease. The loser gives up the job on the nodes it leased before losing.
  test("the loser leaves no node it leased in its job, and the winner's job is untouched", async () => {
    const c = await RebalanceCluster.start({ old: ["b", "c"], next: ["a", "b", "c"] });
    const winner = Bun.spawn(["sleep", "60"]);
    try {
      const { surveyCluster } = await import("../../src/rebalance/survey.ts");
      const { Lease } = await import("../../src/rebalance/lease.ts");
      const survey = await surveyCluster(c.next, c.old, {});
      expect(survey.status).toBe("new");
      // another rebalance, from the same old ring to one without node a, takes b and c now
      const other = new Ring([...c.old.nodes], { vnodes: 40, epoch: 2 });
      const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });
      const holder = { pid: winner.pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" };
      for (const name of ["b", "c"]) {
        const r = await call(c.instances.get(name)!.url, "POST", "/rebalance/lease", {
          from: doc(c.old),
          to: doc(other),
          token: "the-winners-token",
          expect: null,
          holder,
        });
        expect(r.status).toBe(200);
      }
      const lost = await Lease.acquire(survey.move, survey.nodes).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(Error);
      expect((lost as Error).message).toContain("node b");
      // node a (leased first, in name order) is free again: as if it never took part
      expect((await call(c.instances.get("a")!.url, "GET", "/ring")).json.rebalance).toBeUndefined();
      // and the winner's job is untouched on b and c
      for (const name of ["b", "c"]) {
        const held = (await call(c.instances.get(name)!.url, "GET", "/ring")).json.rebalance;
        expect({ name, job: held.job, phase: held.phase }).toEqual({ name, job: `${c.old.label} -> ${other.label}`, phase: "copying" });
      }
    } finally {
      winner.kill("SIGKILL");
      await c.stop();
    }
  });
});

describe("shardctl rebalance on SQLite instances", () => {
  test("the text report: the plan, each step, the fence; no progress bar when stderr is no terminal", async () => {
    await withCluster(JOINING, 1000, async (c) => {
      const dry = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--dry-run");
      expect(dry.code).toBe(0);
      const moving = range(1, 1000).filter((id) => c.oldOwner(id) !== c.newOwner(id)).length;
      expect(dry.stdout).toStartWith(`rebalance ${c.old.label} -> ${c.next.label} (dry run: nothing changed)\n\nfrom   to  records\n`);
      for (const from of ["a", "b", "c"]) {
        const n = range(1, 1000).filter((id) => c.oldOwner(id) === from && c.newOwner(id) === "d").length;
        expect(dry.stdout).toContain(`\n${from}      d   ${String(n).padStart(7)}\n`);
      }
      expect(dry.stdout).toContain(`\nmoves      ${String(moving).padStart(7)}\n`);
      expect(dry.stdout).toContain(`${moving} records of 1,000 move; ${1000 - moving} stay where they are`);
      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const lines = run.stdout.split("\n");
      expect(lines[0]).toBe(`rebalance ${c.old.label} -> ${c.next.label}`);
      for (const step of ["copy     ", "catch-up ", "verify   ", "fence    ", "switch   ", "cleanup  ", "done in "]) {
        expect(lines.some((l) => l.startsWith(step))).toBe(true);
      }
      expect(run.stdout).toContain(`copy      ${moving} records in`);
      expect(run.stdout).toContain(`${moving} copied, 0 already there`);
      expect(run.stdout).toContain(`verify    ${moving} records compared in`);
      expect(run.stdout).toMatch(/fence +\d+ ms: requests on moving records were answered 503 \(Retry-After: 1\) this long/);
      expect(run.stdout).toContain(`switch    d, a, b, c -> ring ${c.next.label}`);
      expect(run.stdout).toContain(`cleanup   ${moving} moved records deleted from their old owners`);
    });
  });

  test("once done, the same command is exit 0 with nothing to do, also after the node that left was shut down", async () => {
    await withCluster({ old: ["a", "b", "c"], next: ["a", "b"] }, 300, async (c) => {
      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const again = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect([again.code, again.stdout.trim()]).toEqual([
        0,
        `rebalance ${c.old.label} -> ${c.next.label}: done already, every node holds ring ${c.next.label}; nothing to do.`,
      ]);
      await c.stopNode("c");
      const afterLeaving = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect([afterLeaving.code, afterLeaving.stdout.trim(), afterLeaving.stderr]).toEqual([0, again.stdout.trim(), ""]);
    });
  });

  test("--keep-data leaves the moved records on their old owners (verify reports them), the ring switched all the same", async () => {
    await withCluster({ old: ["a", "b"], next: ["a", "b", "c"] }, 500, async (c, ids) => {
      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--keep-data", "--json");
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).cleanup).toEqual({ kept: true });
      const rows = await c.rows();
      const moved = ids.filter((id) => c.oldOwner(id) !== c.newOwner(id));
      for (const id of moved) {
        expect(rows.get(c.oldOwner(id))!.get(id)).toEqual(seedRow(id));
        expect(rows.get(c.newOwner(id))!.get(id)).toEqual(seedRow(id));
      }
      const verify = await runCli("client", "verify", "--ring", c.newFile, "--ids", "1..500", "--json");
      expect(verify.code).toBe(1);
      expect(JSON.parse(verify.stdout).extra.length).toBe(moved.length);
      for (const i of c.instances.values()) expect((await call(i.url, "GET", "/ring")).json.label).toBe(c.next.label);
    });
  });
});

describe("shardctl rebalance stopped on the way (the library, on SQLite instances)", () => {
  test("Ctrl-C: it stops at the next safe point, gives the lease up at once, and the same command completes", async () => {
    await withCluster(JOINING, 2000, async (c, ids) => {
      const stop = new AbortController();
      const stopped = await rebalance({
        from: c.old,
        to: c.next,
        batchSize: 50,
        signal: stop.signal,
        onProgress: ({ step, done }) => {
          if (step === "copy" && done > 0) stop.abort();
        },
      }).catch((e: unknown) => e);
      expect(stopped).toBeInstanceOf(Interrupted);
      expect((stopped as Error).message).toBe("interrupted during copy; the rebalance stays where it is: run the same command again to go on");
      for (const i of c.instances.values()) expect((await call(i.url, "GET", "/ring")).json.rebalance).toMatchObject({ phase: "copying", holder: null });
      const report = await rebalance({ from: c.old, to: c.next });
      expect([report.outcome, report.found, report.tookOver]).toEqual(["done", "unfinished", undefined]);
      await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
    });
  });

  test("the command on Ctrl-C: the plan, what was done, what is left and the command that goes on, on stdout; one line on stderr; exit 130", async () => {
    await withCluster(JOINING, 2000, async (c, ids) => {
      // Ctrl-C as the copy starts: when the command first reads the records of an old owner
      const realFetch = globalThis.fetch;
      let pressed = false;
      const spy = spyOn(globalThis, "fetch").mockImplementation(((input: string | URL | Request, init?: RequestInit) => {
        if (!pressed && String(input instanceof Request ? input.url : input).includes("/rebalance/records")) {
          pressed = true;
          process.emit("SIGINT");
        }
        return realFetch(input, init);
      }) as typeof fetch);
      let r: Awaited<ReturnType<typeof runCli>>;
      try {
        r = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--keep-data");
      } finally {
        spy.mockRestore();
      }
      expect(pressed).toBe(true);
      expect(r.code).toBe(130);
      const out = r.stdout.split("\n");
      // the plan table is kept
      expect(out[0]).toBe(`rebalance ${c.old.label} -> ${c.next.label}`);
      expect(out).toContainEqual(expect.stringMatching(/^from\s+to\s+records$/));
      expect(out).toContainEqual(expect.stringMatching(/^moves\s+[\d,]+$/));
      // where it stopped, how far it got, what is left (--keep-data: no cleanup), where the cluster stands, how to go on
      expect(out).toContainEqual(expect.stringMatching(/^stopped {3}during copy \(Ctrl-C\) after [\d.]+ m?s: [\d,]+ of [\d,]+ records copied$/));
      expect(out).toContain("left      copy, catch-up, verify, fence, switch, finish");
      // wrapped at words to 80 columns off a terminal
      const at = out.findIndex((l) => l.startsWith("The rebalance stays where it is."));
      expect(out.slice(at, out.indexOf("To go on, run the same command again:")).join(" ")).toBe(
        "The rebalance stays where it is. No node has switched: clients are served as before, by the old ring's owners; what was copied stays and is compared, not copied again.",
      );
      for (const line of out) if (!line.startsWith("  shardctl rebalance ")) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(80);
      const resume = `shardctl rebalance --from ${c.oldFile} --to ${c.newFile} --keep-data`;
      expect(out.slice(-2)).toEqual(["To go on, run the same command again:", `  ${resume}`]);
      // said once: stderr does not repeat it
      expect(r.stderr).toBe("shardctl rebalance: interrupted during copy (above: what was done, what is left, how to go on)");
      // the command printed goes on and completes
      const again = await runCli(...resume.split(" ").slice(1));
      expect(again.code).toBe(0);
      expect(again.stdout.split("\n")[0]).toBe(`rebalance ${c.old.label} -> ${c.next.label} (an unfinished run taken up)`);
      for (const i of c.instances.values()) expect((await call(i.url, "GET", "/ring")).json.label).toBe(c.next.label);
      // --keep-data: every record on its new owner, the moved ones still on their old owners too
      const rows = await c.rows();
      for (const id of ids) expect(rows.get(c.newOwner(id))!.get(id)).toEqual(seedRow(id));
    });
  });

  test("a run that could not finish on one node: the next finishes it there and touches nothing else", async () => {
    await withCluster(JOINING, 1000, async (c, ids) => {
      let stopping: Promise<void> | undefined;
      const failed = await rebalance({
        from: c.old,
        to: c.next,
        retries: 0,
        onEvent: (event) => {
          if (event.kind === "step" && event.step === "finish") stopping = c.stopNode("c");
        },
      }).catch((e: unknown) => e);
      await stopping;
      expect(failed).toBeInstanceOf(RebalanceFailed);
      expect((failed as RebalanceFailed).message).toMatch(/^finish: node c \(http:\/\/127\.0\.0\.1:\d+\): connection refused/);
      await c.startNode("c");
      const phases = async () => Object.fromEntries(Object.entries(await c.phases()).map(([n, p]) => [n, p.phase]));
      expect(await phases()).toEqual({ a: "done", b: "done", c: "switched", d: "done" });
      const report = await rebalance({ from: c.old, to: c.next });
      expect([report.outcome, report.switched, report.cleanup]).toEqual(["done", [], undefined]);
      expect(await phases()).toEqual({ a: "done", b: "done", c: "done", d: "done" });
      await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
    });
  });
});

describe("shardctl rebalance that cannot verify", () => {
  test("a target that does not keep what it is sent: no switch, the fence lifted, the record named; fixed, the next run completes", async () => {
    await withCluster(JOINING, 1000, async (c, ids) => {
      const victim = ids.find((id) => c.newOwner(id) === "d")!;
      // d's database changes that record whenever it is written
      const file = c.db("d").slice("sqlite:".length);
      const db = new Database(file);
      db.exec(
        `CREATE TRIGGER corrupt_insert AFTER INSERT ON expenses WHEN NEW.id = ${victim} BEGIN UPDATE expenses SET name = 'corrupted' WHERE id = NEW.id; END`,
      );
      db.exec(
        `CREATE TRIGGER corrupt_update AFTER UPDATE OF name ON expenses WHEN NEW.id = ${victim} AND NEW.name <> 'corrupted' BEGIN UPDATE expenses SET name = 'corrupted' WHERE id = NEW.id; END`,
      );
      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `shardctl rebalance: fence: 1 record(s) still differ after copying them again, so no node switched and the fence is lifted: record ${victim} (${c.oldOwner(victim)} -> d): differs in name`,
      );
      for (const name of c.names) {
        const ring = (await call(c.instances.get(name)!.url, "GET", "/ring")).json;
        expect({ name, label: ring.label, phase: ring.rebalance.phase }).toEqual({ name, label: name === "d" ? c.next.label : c.old.label, phase: "copying" });
      }
      // the fence is down: the old owner takes writes to moving records again
      const moving = ids.find((id) => c.oldOwner(id) === "a" && c.newOwner(id) === "d")!;
      expect((await call(c.instances.get("a")!.url, "PUT", `/v1/expenses/${moving}`, { name: "after the failure" })).status).toBe(202);

      db.exec("DROP TRIGGER corrupt_insert");
      db.exec("DROP TRIGGER corrupt_update");
      db.close();
      const again = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      expect([again.code, JSON.parse(again.stdout).outcome]).toEqual([0, "done"]);
      const expected = new Map(ids.map((id) => [id, id === moving ? { ...seedRow(id), name: "after the failure" } : seedRow(id)]));
      await expectPlacedOnce(c, expected);
    });
  });
});
