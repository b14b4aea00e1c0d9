/**
 * The embedded store: one bun:sqlite database file (WAL) through drizzle-orm. SQLite
 * serialises writes itself, so one connection serves every request.
 *
 * bun:sqlite runs on the event loop: a statement that waits for another process's lock
 * would stall every request, /healthz included. So after opening, a locked file fails at
 * once (busy_timeout 0) and the operation is tried again after a pause that lets the loop
 * run, until BUSY_WAIT_MS have passed; then it is a 503, as is a full disk or an I/O error.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { asc, eq, gt, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { Availability, type StoreLog } from "../availability.ts";
import { migrate, type MigrationTarget } from "../migrate.ts";
import { RowCount } from "../row-count.ts";
import { fromRow, toChanges, toRow } from "../row.ts";
import { CURRENT_REBALANCE, CURRENT_RING, StoreUnavailable, type ExpenseStore } from "../types.ts";
import type { RebalancePhase } from "../../rebalance/protocol.ts";
import { migrations } from "./migrations.ts";
import { expenses, instanceRing, rebalance, rebalanceChanges } from "./schema.ts";

/** Ids per statement in an IN list, below SQLite's limit of bound values. */
const IDS_PER_STATEMENT = 500;

/** How long an operation waits for another process's lock on the file before it is a 503. */
const BUSY_WAIT_MS = 1000;
/** Opening waits longer: another instance may be migrating the same new file. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

/** Result codes of a database that cannot serve now (503), rather than of a wrong statement. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|CORRUPT|NOTADB|PROTOCOL)/;
const BUSY = /^SQLITE_(BUSY|LOCKED)/;

const codeOf = (e: unknown) => (e as { code?: unknown } | undefined)?.code;

function unavailableMessage(code: string, e: unknown): string {
  if (BUSY.test(code)) return `the database file is locked by another connection (${code}) for over ${BUSY_WAIT_MS} ms`;
  if (code === "SQLITE_FULL") return `the database or its disk is full (${code})`;
  return `the database file cannot be used (${code}): ${(e as Error).message}`;
}

export interface SqliteStoreOptions {
  /** Told when the database goes away and comes back. */
  readonly log?: StoreLog;
  /** For tests: PRAGMA max_page_count, a database that may not grow past this many pages (a full disk). */
  readonly maxPageCount?: number;
}

/** Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one) and migrates it. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<ExpenseStore> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path, { create: true, strict: true });
  // The wait first: switching a new file to WAL needs a moment of exclusive access, which
  // another instance opening the same file at once may hold.
  client.exec(`PRAGMA busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
  client.exec("PRAGMA journal_mode = WAL");
  await migrate(migrationTarget(client), migrations);
  client.exec("PRAGMA busy_timeout = 0");
  if (options.maxPageCount !== undefined) client.exec(`PRAGMA max_page_count = ${options.maxPageCount}`);
  const db = drizzle({ client });
  const availability = new Availability(options.log);
  /** A write that failed for want of space or I/O: readiness is 503 until a write succeeds. */
  let writeFault: StoreUnavailable | undefined;

  /** Runs `work`; a locked file is tried again (after pauses that let the loop run), any database fault is StoreUnavailable. */
  async function run<T>(work: () => T, write = false): Promise<T> {
    let deadline: number | undefined;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      try {
        const value = work();
        if (write) writeFault = undefined;
        // a read that works says nothing about a database that cannot write
        if (!writeFault) availability.ok();
        return value;
      } catch (e) {
        const code = codeOf(e);
        if (typeof code !== "string" || !UNAVAILABLE.test(code)) throw e;
        deadline ??= performance.now() + BUSY_WAIT_MS;
        if (BUSY.test(code) && performance.now() + pause < deadline) {
          await Bun.sleep(pause);
          continue;
        }
        const failure = new StoreUnavailable(unavailableMessage(code, e), { cause: e });
        if (write && !BUSY.test(code)) writeFault = failure;
        availability.failed(failure);
        throw failure;
      }
    }
  }

  /** A write that needs new pages and leaves nothing behind: can the database grow now? */
  const probeWrite = client.transaction(() => {
    client.exec("CREATE TABLE shardctl_write_probe (x BLOB)");
    client.exec("INSERT INTO shardctl_write_probe VALUES (zeroblob(16384))");
    client.exec("DROP TABLE shardctl_write_probe");
  });

  const get = (id: string) => {
    const row = db
      .select()
      .from(expenses)
      .where(eq(expenses.id, Number(id)))
      .get();
    return row && fromRow(row);
  };
  const journal = (id: string) =>
    db
      .insert(rebalanceChanges)
      .values({ id: Number(id) })
      .run();
  const loadRebalance = () => {
    const row = db.select().from(rebalance).where(eq(rebalance.name, CURRENT_REBALANCE)).get();
    return row && { job: row.job, phase: row.phase as RebalancePhase, token: row.token, text: row.record };
  };
  const chunks = <T>(items: readonly T[]) =>
    Array.from({ length: Math.ceil(items.length / IDS_PER_STATEMENT) }, (_, i) => items.slice(i * IDS_PER_STATEMENT, (i + 1) * IDS_PER_STATEMENT));
  const upsert = client.prepare(
    `INSERT INTO expenses (id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date)
     VALUES ($id, $name, $email, $category, $description, $link, $costCents, $submitDate, $status, $decisionDate)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, category = excluded.category,
       description = excluded.description, link = excluded.link, estimated_costs_cents = excluded.estimated_costs_cents,
       submit_date = excluded.submit_date, status = excluded.status, decision_date = excluded.decision_date`,
  );
  const loadRing = () => {
    const row = db.select().from(instanceRing).where(eq(instanceRing.role, CURRENT_RING)).get();
    return row && { epoch: row.epoch, fingerprint: row.fingerprint, text: row.ring };
  };

  const countRecords = () => client.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM expenses").get()!.n;
  const count = new RowCount(countRecords(), () => run(countRecords));
  // The ids of a chunk already stored: an upsert of the others adds rows (inside the write transaction, nothing else writes).
  const storedAmong = (ids: number[]) => db.select({ id: expenses.id }).from(expenses).where(inArray(expenses.id, ids)).all().length;

  return {
    dialect: "sqlite",
    insert: (record, options) =>
      count.track(
        run(
          () =>
            client
              .transaction(() => {
                const stored =
                  db.insert(expenses).values(toRow(record)).onConflictDoNothing({ target: expenses.id }).returning({ id: expenses.id }).all().length === 1;
                if (stored && options?.journal) journal(record.id);
                return stored;
              })
              .immediate(),
          true,
        ),
        (inserted) => (inserted ? 1 : 0),
      ),
    get: (id) => run(() => get(id)),
    update: (id, changes, options) =>
      run(
        () =>
          client
            .transaction(() => {
              const set = toChanges(changes);
              if (Object.keys(set).length === 0) return get(id);
              const row = db
                .update(expenses)
                .set(set)
                .where(eq(expenses.id, Number(id)))
                .returning()
                .get();
              if (row && options?.journal) journal(id);
              return row && fromRow(row);
            })
            .immediate(),
        true,
      ),
    delete: (id, options) =>
      count.track(
        run(
          () =>
            client
              .transaction(() => {
                const deleted =
                  db
                    .delete(expenses)
                    .where(eq(expenses.id, Number(id)))
                    .returning({ id: expenses.id })
                    .all().length === 1;
                if (deleted && options?.journal) journal(id);
                return deleted;
              })
              .immediate(),
          true,
        ),
        (deleted) => (deleted ? -1 : 0),
      ),
    list: (after, limit) =>
      run(() => {
        const q = db.select().from(expenses);
        const rows = (after === undefined ? q : q.where(gt(expenses.id, Number(after)))).orderBy(asc(expenses.id)).limit(limit).all();
        return rows.map(fromRow);
      }),
    loadRing: () => run(loadRing),
    saveRing: (ring) =>
      // A write transaction from the read on, so that another process on the same file cannot save in between.
      run(
        () =>
          client
            .transaction(() => {
              const current = loadRing();
              if (current && current.epoch >= ring.epoch) return { saved: false as const, current };
              const row = { epoch: ring.epoch, fingerprint: ring.fingerprint, ring: ring.text, savedAt: new Date().toISOString() };
              db.insert(instanceRing)
                .values({ role: CURRENT_RING, ...row })
                .onConflictDoUpdate({ target: instanceRing.role, set: row })
                .run();
              return { saved: true as const };
            })
            .immediate(),
        true,
      ),
    loadRebalance: () => run(loadRebalance),
    saveRebalance: (next, expectedToken) =>
      run(
        () =>
          client
            .transaction(() => {
              const current = loadRebalance();
              if ((current?.token ?? null) !== expectedToken) return { saved: false as const, current };
              const row = { job: next.job, phase: next.phase, token: next.token, record: next.text, savedAt: new Date().toISOString() };
              db.insert(rebalance)
                .values({ name: CURRENT_REBALANCE, ...row })
                .onConflictDoUpdate({ target: rebalance.name, set: row })
                .run();
              return { saved: true as const };
            })
            .immediate(),
        true,
      ),
    deleteRebalance: (expectedToken) =>
      run(
        () =>
          client
            .transaction(() => {
              const current = loadRebalance();
              if (!current || current.token !== expectedToken) return false;
              db.delete(rebalance).where(eq(rebalance.name, CURRENT_REBALANCE)).run();
              db.delete(rebalanceChanges).run();
              return true;
            })
            .immediate(),
        true,
      ),
    changes: (limit, afterSeq = -1) =>
      run(() =>
        db
          .select()
          .from(rebalanceChanges)
          .where(gt(rebalanceChanges.seq, afterSeq))
          .orderBy(asc(rebalanceChanges.seq))
          .limit(limit)
          .all()
          .map((r) => ({ seq: r.seq, id: String(r.id) })),
      ),
    dropChanges: (seqs) =>
      run(
        () =>
          client
            .transaction(() => {
              for (const part of chunks(seqs)) {
                db.delete(rebalanceChanges)
                  .where(inArray(rebalanceChanges.seq, [...part]))
                  .run();
              }
            })
            .immediate(),
        true,
      ),
    clearChanges: () => run(() => void db.delete(rebalanceChanges).run(), true),
    getMany: (ids) =>
      run(() =>
        chunks(ids)
          .flatMap((part) =>
            db
              .select()
              .from(expenses)
              .where(inArray(expenses.id, part.map(Number)))
              .all(),
          )
          .sort((a, b) => a.id - b.id)
          .map(fromRow),
      ),
    putMany: async (records) => {
      // Rows are made first: a record that cannot be stored throws before anything is written.
      const rows = records.map(toRow);
      await count.track(
        run(
          () =>
            client
              .transaction(() => {
                // each id once: an id given twice (in two chunks) must not count as stored twice
                const ids = [...new Set(rows.map((r) => r.id))];
                const existing = chunks(ids).reduce((n, part) => n + storedAmong(part), 0);
                for (const r of rows) upsert.run(r);
                return ids.length - existing;
              })
              .immediate(),
          true,
        ),
        (inserted) => inserted,
      );
    },
    deleteMany: (ids) =>
      count.track(
        run(
          () =>
            client
              .transaction(() =>
                chunks(ids).reduce(
                  (n, part) =>
                    n +
                    db
                      .delete(expenses)
                      .where(inArray(expenses.id, part.map(Number)))
                      .returning({ id: expenses.id })
                      .all().length,
                  0,
                ),
              )
              .immediate(),
          true,
        ),
        (deleted) => -deleted,
      ),
    listIds: (after, limit) =>
      run(() => {
        const q = db.select({ id: expenses.id }).from(expenses);
        return (after === undefined ? q : q.where(gt(expenses.id, Number(after))))
          .orderBy(asc(expenses.id))
          .limit(limit)
          .all()
          .map((r) => String(r.id));
      }),
    async ping() {
      await run(() => client.query("SELECT 1").get());
      // After a write failed for want of space or I/O, ready again only once the database can grow.
      if (writeFault) await run(() => probeWrite.immediate(), true);
      count.retry();
    },
    stats: () => ({ records: count.records, unavailable: availability.unavailable }),
    async close() {
      client.close();
    },
  };
}

/** The migration lock is a write transaction (BEGIN IMMEDIATE), so the applied versions are read under it. */
function migrationTarget(client: Database): MigrationTarget {
  return {
    async prepare() {
      client.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    },
    async locked(work) {
      client.exec("BEGIN IMMEDIATE");
      try {
        await work();
        client.exec("COMMIT");
      } catch (e) {
        client.exec("ROLLBACK");
        throw e;
      }
    },
    async applied() {
      return new Set(
        client
          .query<{ version: number }, []>("SELECT version FROM schema_migrations")
          .all()
          .map((r) => r.version),
      );
    },
    async apply(m) {
      for (const statement of m.statements) client.exec(statement);
      client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
    },
  };
}
