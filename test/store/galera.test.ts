/**
 * The MySQL store on a real three-member Galera cluster (test/support/galera.ts): the store
 * contract; one member in use, the first usable one in the URL's order; a member outside the
 * primary component never used, and left when the one in use is cut off; a donor left behind
 * a causality barrier; certification conflicts retried; migrations run once cluster-wide,
 * by two migrators and by two serve processes that start at once through two members.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { migrate, type Migration } from "../../src/store/migrate.ts";
import { migrationTarget } from "../../src/store/mysql/migration-lock.ts";
import { openStore } from "../../src/store/index.ts";
import { type ExpenseStore, StoreUnavailable } from "../../src/store/types.ts";
import { harness } from "../instance/api.contract.ts";
import { type GaleraCluster, galeraUnavailable, useGalera } from "../support/galera.ts";
import { freePort, waitFor } from "../support/net.ts";
import { runStoreContract, stored } from "./store.contract.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");

/** Sets gmcast.isolate on a member: 1 cuts it off from the others (it leaves the primary component), 0 lets it back. */
async function isolate(galera: GaleraCluster, i: number, on: boolean) {
  await galera.members[i]!.sql(`SET GLOBAL wsrep_provider_options = 'gmcast.isolate=${on ? 1 : 0}'`);
}

describe.skipIf(!!galeraUnavailable)("mysql store on a three-member Galera cluster", () => {
  const galera = useGalera();
  let n = 0;
  const fresh = (prefix: string, order?: readonly number[]) => galera().url(`${prefix}_${n++}`, order);
  const member = (i: number) => galera().members[i]!;
  /** A store that is closed after the test, and the lines it logged. */
  const opened: ExpenseStore[] = [];
  const open = async (url: string) => {
    const lines: string[] = [];
    const store = await openStore(url, (line) => lines.push(line));
    opened.push(store);
    return { store, lines };
  };
  const closeAll = () => Promise.all(opened.splice(0).map((s) => s.close()));

  runStoreContract("galera, three members", () => openStore(fresh("contract")));

  test("uses the first usable member in the URL's order, and its stats name every member", async () => {
    try {
      await galera().heal();
      const { store, lines } = await open(fresh("order", [2, 0, 1]));
      const cluster = store.stats().cluster!;
      expect(cluster.member).toBe(member(2).address);
      expect(cluster.moves).toBe(0);
      expect(cluster.members.map((m) => [m.address, m.state, m.component, m.clusterSize, m.inUse, m.usable, m.problem])).toEqual([
        [member(2).address, "Synced", "Primary", 3, true, true, null],
        [member(0).address, "Synced", "Primary", 3, false, true, null],
        [member(1).address, "Synced", "Primary", 3, false, true, null],
      ]);
      expect(lines).toEqual([`galera: using database member ${member(2).address} (Synced, cluster of 3): the first usable member in the URL's order`]);
      // what the store wrote is on every member (read there by SQL)
      expect(await store.insert(stored("1"))).toBe(true);
      const database = `order_${n - 1}`;
      for (const m of galera().members) {
        await waitFor(async () => ((await m.sql(`SELECT COUNT(*) AS n FROM ${database}.expenses`))[0]!.n === 1 ? true : undefined));
      }
    } finally {
      await closeAll();
    }
  });

  test("a member cut off from the others (outside the primary component) is left, and never used by a store that opens meanwhile", async () => {
    const url = fresh("cutoff");
    const database = url.split("/").pop()!;
    try {
      await galera().heal();
      const { store, lines } = await open(url);
      expect(store.stats().cluster!.member).toBe(member(0).address);
      for (const id of ["1", "2", "3"]) expect(await store.insert(stored(id))).toBe(true);

      await isolate(galera(), 0, true);
      await waitFor(async () => ((await member(0).wsrep())?.wsrep_cluster_status === "non-Primary" ? true : undefined), { timeoutMs: 30_000 });
      // the member in use left: the next usable one in the URL's order, with a line naming the cause
      await waitFor(() => (store.stats().cluster!.member === member(1).address ? true : undefined), { timeoutMs: 10_000 });
      expect(lines.at(-1)).toStartWith(`galera: moved from database member ${member(0).address} to ${member(1).address} (Synced, cluster of 2): `);
      // the first sign of the cut, whichever a check sees first: the view it is left with, or that it is outside the primary component
      expect(lines.at(-1)).toMatch(new RegExp(`${member(0).address} (is outside the primary component \\(non-Primary|holds an old view of the cluster)`));
      // every write acknowledged before the move is read after it
      for (const id of ["1", "2", "3"]) expect(await store.get(id)).toEqual(stored(id));
      expect(await store.insert(stored("4"))).toBe(true);

      // a store that opens now, with the cut-off member first, never uses it
      const second = await open(fresh("cutoff_second", [0, 1, 2]));
      const cluster = second.store.stats().cluster!;
      expect(cluster.member).toBe(member(1).address);
      expect(cluster.members[0]).toMatchObject({ address: member(0).address, component: "non-Primary", usable: false, inUse: false });
      expect(cluster.members[0]!.problem).toContain("is outside the primary component");
      // and the cut-off member refuses to serve (ER_UNKNOWN_COM_ERROR), so nothing reached it
      await expect(member(0).sql(`SELECT COUNT(*) AS n FROM ${database}.expenses`)).rejects.toThrow("WSREP has not yet prepared node for application use");
      await expect(second.store.insert(stored("9"))).resolves.toBe(true);
    } finally {
      await closeAll();
      await isolate(galera(), 0, false).catch(() => {});
      await galera().heal();
    }
    // back in the cluster, it caught up with what was written while it was cut off
    const [row] = await member(0).sql(`SELECT COUNT(*) AS n FROM ${database}.expenses`);
    expect(Number(row!.n)).toBe(4);
  }, 120_000);

  test("a donor (desynced) member in use is left behind a causality barrier; the store does not move back when it is synced again", async () => {
    try {
      await galera().heal();
      const { store, lines } = await open(fresh("donor", [1, 0, 2]));
      expect(store.stats().cluster!.member).toBe(member(1).address);
      for (let i = 1; i <= 20; i++) expect(await store.insert(stored(String(i)))).toBe(true);
      const causalReads = async () => Number((await member(0).wsrep())!.wsrep_causal_reads);
      const before = await causalReads();

      await member(1).sql("SET GLOBAL wsrep_desync = ON");
      await waitFor(() => (store.stats().cluster!.member === member(0).address ? true : undefined), { timeoutMs: 10_000 });
      expect(lines.at(-1)).toContain(`moved from database member ${member(1).address} to ${member(0).address}`);
      expect(lines.at(-1)).toContain("is Donor/Desynced, not Synced");
      expect(store.stats().cluster!.moves).toBe(1);
      // the barrier: a read with wsrep_sync_wait on the new member before it served anything
      expect(await causalReads()).toBeGreaterThan(before);
      for (let i = 1; i <= 20; i++) expect(await store.get(String(i))).toEqual(stored(String(i)));

      await member(1).sql("SET GLOBAL wsrep_desync = OFF");
      await waitFor(async () => ((await member(1).wsrep())?.wsrep_local_state_comment === "Synced" ? true : undefined));
      await Bun.sleep(2500);
      expect(store.stats().cluster!.member).toBe(member(0).address);
      expect(store.stats().cluster!.members[0]).toMatchObject({ address: member(1).address, state: "Synced", usable: true });
    } finally {
      await closeAll();
      await member(1)
        .sql("SET GLOBAL wsrep_desync = OFF")
        .catch(() => {});
    }
  }, 60_000);

  test("an operation still on the member being left is answered then (503, its outcome unknown), not at its deadline; re-run, it settles", async () => {
    try {
      await galera().heal();
      // a long deadline, so that only the move can answer the blocked insert soon
      const { store, lines } = await open(`${fresh("cut")}?timeout=30000`);
      expect(store.stats().cluster!.member).toBe(member(0).address);
      const database = `cut_${n - 1}`;
      // a read lock on every table of the member in use: the store's insert, sent at once, waits on it there; and Galera
      // desyncs a member under FLUSH TABLES WITH READ LOCK, so the store moves, and the insert waiting there is answered then
      const locker = await mysql.createConnection({ host: "127.0.0.1", port: member(0).port, user: "root", database });
      try {
        await locker.query("FLUSH TABLES WITH READ LOCK");
        const started = performance.now();
        const answer = await store.insert(stored("1")).then(
          () => "inserted",
          (e: unknown) => e,
        );
        const took = performance.now() - started;
        expect(answer).toBeInstanceOf(StoreUnavailable);
        expect((answer as StoreUnavailable).outcomeUnknown).toBe(true);
        expect((answer as Error).message).toContain(`moved away from database member ${member(0).address}, which is Donor/Desynced`);
        expect(took).toBeLessThan(15_000);
        // the move goes on behind the answer: the barrier on the next member, then its line
        const moved = `moved from database member ${member(0).address} to ${member(1).address}`;
        await waitFor(() => (lines.some((l) => l.includes(moved)) ? true : undefined));
      } finally {
        // released, the insert left on the old member may still run there: "may have been applied"
        await locker.query("UNLOCK TABLES");
        await locker.end();
      }
      // the client's re-run settles it: stored either way, exactly once
      await store.insert(stored("1"));
      expect(await store.get("1")).toEqual(stored("1"));
      expect((await member(1).records(database)).map((r) => r.id)).toEqual(["1"]);
    } finally {
      await closeAll();
    }
  }, 60_000);

  test("a certification conflict with a write through another member is retried like a deadlock: the PUT that met one is 202 with its own change, never 500", async () => {
    try {
      await galera().heal();
      const url = fresh("certify");
      const database = url.split("/").pop()!;
      const { store } = await open(url);
      const { call } = harness(store);
      expect((await call("POST", "/v1/expenses", seedRecord("1"))).status).toBe(201);
      // the store's transactions on the member in use that lost to a replicated one: failed certification, or aborted by it
      const conflicts = async () => {
        const w = (await member(0).wsrep())!;
        return Number(w.wsrep_local_cert_failures) + Number(w.wsrep_local_bf_aborts);
      };
      // another writer, through another member, changing the same row every few milliseconds
      const other = await mysql.createConnection({ host: "127.0.0.1", port: member(1).port, user: "root", database });
      let stop = false;
      const rival = (async () => {
        for (let k = 0; !stop; k++) {
          // it loses races too (1213): it goes on
          await other.query("UPDATE expenses SET description = ? WHERE id = 1", [`rival ${k}`]).catch(() => {});
          await Bun.sleep(2);
        }
      })();
      const answers = [];
      try {
        for (let i = 0; i < 150; i++) {
          const before = await conflicts();
          const answer = await call("PUT", "/v1/expenses/1", { name: `put ${i}` });
          answers.push({ i, answer, conflicts: (await conflicts()) - before });
        }
      } finally {
        stop = true;
        await rival;
        await other.end();
      }
      for (const { i, answer } of answers) {
        if (answer.status === 202) expect({ i, name: answer.json.name }).toEqual({ i, name: `put ${i}` });
        // a PUT that lost every try says so: nothing applied
        else
          expect({ i, status: answer.status, message: answer.json.message }).toEqual({ i, status: 503, message: expect.stringContaining("lost a lock race") });
      }
      const retried = answers.filter((a) => a.conflicts > 0 && a.answer.status === 202);
      const summary = `${answers.reduce((s, a) => s + a.conflicts, 0)} conflicts over 150 PUTs; ${retried.length} PUTs met one and were 202; ${answers.filter((a) => a.answer.status === 503).length} were 503`;
      console.log(`[galera] ${summary}`);
      expect(retried.length).toBeGreaterThan(0);
    } finally {
      await closeAll();
    }
  }, 60_000);

  test("two migrators through two members at once run each migration once (a replicated lock, not GET_LOCK)", async () => {
    await galera().heal();
    // a migration whose effect shows how often it ran: a row per run
    const counting: Migration[] = [
      { version: 1, name: "runs", statements: ["CREATE TABLE IF NOT EXISTS runs (n INT AUTO_INCREMENT PRIMARY KEY)", "INSERT INTO runs () VALUES ()"] },
      { version: 2, name: "more runs", statements: ["INSERT INTO runs () VALUES ()"] },
    ];
    for (let round = 0; round < 4; round++) {
      const database = `migrate_${round}_${n++}`;
      await member(0).sql(`CREATE DATABASE ${database}`);
      const connect = (i: number) => async () => {
        const c = await mysql.createConnection({ host: "127.0.0.1", port: member(i).port, user: "root", database });
        await c.query("SET SESSION wsrep_sync_wait = 1");
        return c;
      };
      const [a, b] = [await connect(0)(), await connect(1)()];
      try {
        await Promise.all([migrate(migrationTarget(a, 30, connect(0)), counting), migrate(migrationTarget(b, 30, connect(1)), counting)]);
        for (const c of [a, b]) {
          const [[runs]] = await c.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM runs");
          const [versions] = await c.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations ORDER BY version");
          const [held] = await c.query<mysql.RowDataPacket[]>("SELECT * FROM schema_migration_lock");
          expect({ round, runs: Number(runs!.n), versions: versions.map((v) => v.version), held }).toEqual({ round, runs: 2, versions: [1, 2], held: [] });
        }
      } finally {
        await a.end();
        await b.end();
      }
    }
  }, 60_000);

  test("two serve processes started at once through two members migrate once; both serve, each on its own member", async () => {
    await galera().heal();
    const database = `serve_${n++}`;
    const started = await Promise.all(
      [
        [0, 1, 2],
        [1, 2, 0],
      ].map(async (order) => {
        const port = await freePort();
        const proc = Bun.spawn([process.execPath, CLI, "serve", "--port", String(port), "--db", galera().url(database, order)], {
          stdout: "ignore",
          stderr: "pipe",
        });
        let stderr = "";
        const reader = (async () => {
          for await (const chunk of proc.stderr as unknown as AsyncIterable<Uint8Array>) stderr += new TextDecoder().decode(chunk);
        })();
        return { proc, port, reader, stderr: () => stderr };
      }),
    );
    try {
      for (const s of started) {
        await waitFor(() => (s.stderr().includes(" listening on ") ? true : s.proc.exitCode !== null ? `exited: ${s.stderr()}` : undefined), {
          timeoutMs: 60_000,
        }).then((r) => expect(r).toBe(true));
        expect((await fetch(`http://127.0.0.1:${s.port}/readyz`)).status).toBe(200);
      }
      expect(started[0]!.stderr()).toContain(`galera: using database member ${member(0).address}`);
      expect(started[1]!.stderr()).toContain(`galera: using database member ${member(1).address}`);
      const [a, b] = started;
      // each writes through its own member
      expect((await fetch(`http://127.0.0.1:${a!.port}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) })).status).toBe(201);
      expect((await fetch(`http://127.0.0.1:${b!.port}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("2")) })).status).toBe(201);
      const versions = await member(2).sql(`SELECT version FROM ${database}.schema_migrations ORDER BY version`);
      expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
      expect(await member(2).sql(`SELECT * FROM ${database}.schema_migration_lock`)).toEqual([]);
    } finally {
      for (const s of started) s.proc.kill("SIGTERM");
      await Promise.all(started.map((s) => s.proc.exited));
      await Promise.all(started.map((s) => s.reader));
    }
  }, 120_000);
});
