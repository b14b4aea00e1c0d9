/**
 * The MySQL/MariaDB store: a mysql2 pool through drizzle-orm. Opening creates the
 * database if missing and runs the migrations on one connection before the pool opens.
 *
 * The expense statements are built by drizzle once and run as server-side prepared
 * statements (mysql2 `execute`) through the driver's callback API: drizzle's own
 * "prepared" queries are re-sent as text with the values escaped in, and each call of
 * mysql2's promise API captures a stack trace. Measured under load (GET, concurrency 32):
 * about 69 -> 49 CPU-us of the instance per request. Each operation runs on one pooled
 * connection within a deadline (driver.ts `runner`).
 */
import mysql from "mysql2/promise";
import { and, asc, eq, getTableColumns, gt, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/mysql2";
import { Availability, type StoreLog } from "../availability.ts";
import { migrate, type MigrationTarget } from "../migrate.ts";
import { RowCount } from "../row-count.ts";
import { fromRow, toChanges, toRow, type ExpenseRow } from "../row.ts";
import type { RebalancePhase } from "../../rebalance/protocol.ts";
import { CURRENT_REBALANCE, CURRENT_RING, type ExpenseStore } from "../types.ts";
import type { StoreTarget } from "../url.ts";
import { columnsToRow, driverError, runner, statement, unavailable, type Session } from "./driver.ts";
import { migrations } from "./migrations.ts";
import { expenses, instanceRing, rebalance, rebalanceChanges } from "./schema.ts";

type MysqlTarget = Extract<StoreTarget, { dialect: "mysql" }>;

const CONNECT_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 2_000;
const MIGRATION_LOCK = "shardctl_migrations";
const MIGRATION_LOCK_WAIT_S = 30;
const COUNT_RECORDS = "SELECT COUNT(*) AS n FROM expenses";
/** A count again (after a write of unknown outcome) may scan a big table: it gets longer than an API operation. */
const COUNT_DEADLINE_MS = 120_000;

/**
 * Strict mode on every session, whatever the server's default: a value that does not fit
 * its column is an error, never silently truncated or zeroed (validation bounds every field
 * first; this keeps that guarantee if the two ever disagree).
 */
const STRICT_MODE = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/**
 * A row lock is held for a few statements at most: a wait longer than this is a lost race
 * (ER_LOCK_WAIT_TIMEOUT), retried while the operation's deadline allows, not a reason to
 * sit out the server's default of 50 s.
 */
const LOCK_WAIT_S = 1;
const LOCK_CONFLICT_ATTEMPTS = 3;

/**
 * A rebalance's bulk operations (thousands of rows) get more time than one request's
 * operation; ids go 1,000 to an IN list, rows as many as fit in BULK_STATEMENT_BYTES
 * (far below the server's max_allowed_packet of 16 MiB, whatever the records hold).
 */
const BULK_DEADLINE_MS = 30_000;
const IDS_PER_STATEMENT = 1000;
const BULK_STATEMENT_BYTES = 2 << 20;

/** What every pooled connection runs before its first statement. */
const SESSION_SETUP = `${STRICT_MODE}, innodb_lock_wait_timeout = ${LOCK_WAIT_S}`;

export interface MysqlStoreOptions {
  /** Told when the database goes away and comes back. */
  readonly log?: StoreLog;
  /** For tests: the statement each pooled connection runs first (a connection where it fails is never used). */
  readonly sessionSetup?: string;
  /** For tests: how long opening waits for another instance's migration lock. */
  readonly migrationLockWaitS?: number;
}

export async function openMysqlStore(target: MysqlTarget, tuning: MysqlStoreOptions = {}): Promise<ExpenseStore> {
  const access = {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    connectTimeout: CONNECT_TIMEOUT_MS,
    dateStrings: true as const,
    charset: "utf8mb4_unicode_ci",
  };

  let records = 0;
  const setup = await mysql.createConnection(access).catch((e: unknown) => {
    throw unavailable(e) ?? e;
  });
  try {
    await setup.query(STRICT_MODE);
    await setup.query(`CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await setup.query(`USE \`${target.database}\``);
    await migrate(migrationTarget(setup, tuning.migrationLockWaitS ?? MIGRATION_LOCK_WAIT_S), migrations);
    // Counted once, here, before the pool serves anything (RowCount keeps the figure from now on).
    const [[counted]] = await setup.query<mysql.RowDataPacket[]>(COUNT_RECORDS);
    records = Number(counted!.n);
  } finally {
    await setup.end().catch(() => {});
  }

  const pool = mysql.createPool({
    ...access,
    database: target.database,
    connectionLimit: target.poolSize,
    maxIdle: target.poolSize,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    waitForConnections: true,
    queueLimit: target.queueLimit,
  });
  // Every pooled connection runs the session setup before its first statement (mysql2 queues
  // commands per connection, so it goes first). Where it fails, the connection is closed
  // before the next command is sent: that statement fails (503) rather than run non-strict.
  const sessionSetup = tuning.sessionSetup ?? SESSION_SETUP;
  pool.pool.on("connection", (connection) => {
    connection.query(sessionSetup, (e) => {
      if (e) {
        console.error(`shardctl: a new database connection failed its session setup, closing it: ${e.message}`);
        connection.destroy();
      }
    });
  });
  const availability = new Availability(tuning.log);
  const run = runner(pool, availability, {
    deadlineMs: target.timeoutMs,
    attempts: LOCK_CONFLICT_ATTEMPTS,
    lockWaitMs: LOCK_WAIT_S * 1000,
  });
  // No `mode` here: drizzle 0.45 isConfig() rejects any object with a `mode` key.
  const db = drizzle({ client: pool });

  // The hot statements: SQL built by drizzle once, run as prepared statements.
  const selectById = statement(
    db
      .select()
      .from(expenses)
      .where(eq(expenses.id, sql.placeholder("id")))
      .toSQL(),
  );
  const insertRow = statement(
    db
      .insert(expenses)
      .values({
        id: sql.placeholder("id"),
        name: sql.placeholder("name"),
        email: sql.placeholder("email"),
        category: sql.placeholder("category"),
        description: sql.placeholder("description"),
        link: sql.placeholder("link"),
        costCents: sql.placeholder("costCents"),
        submitDate: sql.placeholder("submitDate"),
        status: sql.placeholder("status"),
        decisionDate: sql.placeholder("decisionDate"),
      })
      .toSQL(),
  );
  const deleteById = statement(
    db
      .delete(expenses)
      .where(eq(expenses.id, sql.placeholder("id")))
      .toSQL(),
  );
  // The first page asks for ids above -1: every id (ids are unsigned), one statement for all pages.
  const pageAfter = statement(
    db
      .select()
      .from(expenses)
      .where(gt(expenses.id, sql.placeholder("after")))
      .orderBy(asc(expenses.id))
      .limit(sql.placeholder("limit"))
      .toSQL(),
  );
  const idsAfter = statement(
    db
      .select({ id: expenses.id })
      .from(expenses)
      .where(gt(expenses.id, sql.placeholder("after")))
      .orderBy(asc(expenses.id))
      .limit(sql.placeholder("limit"))
      .toSQL(),
  );
  type Rows = Record<string, unknown>[];
  const get = async (s: Session, id: string) => {
    const [row] = await s.execute<Rows>(selectById.sql, selectById.bind({ id: Number(id) }));
    return row && fromRow(columnsToRow(row));
  };
  const journalChange = statement(
    db
      .insert(rebalanceChanges)
      .values({ id: sql.placeholder("id") })
      .toSQL(),
  );
  const journal = (s: Session, id: string) => s.execute(journalChange.sql, journalChange.bind({ id: Number(id) }));
  const bulk = <T>(work: (s: Session) => Promise<T>) => run(work, Math.max(target.timeoutMs, BULK_DEADLINE_MS));
  const selectRebalance = db.select().from(rebalance).where(eq(rebalance.name, CURRENT_REBALANCE)).toSQL();
  const loadRebalance = async (s: Session, lock = false) => {
    const [row] = await s.execute<Rows>(selectRebalance.sql + (lock ? " FOR UPDATE" : ""), selectRebalance.params);
    return (
      row && {
        job: String(row.job),
        phase: String(row.phase) as RebalancePhase,
        token: row.token === null ? null : String(row.token),
        text: String(row.record),
      }
    );
  };
  const selectRing = db.select().from(instanceRing).where(eq(instanceRing.role, CURRENT_RING)).toSQL();
  const loadRing = async (s: Session) => {
    const [row] = await s.execute<Rows>(selectRing.sql, selectRing.params);
    return row && { epoch: Number(row.epoch), fingerprint: String(row.fingerprint), text: String(row.ring) };
  };

  const count = new RowCount(records, () => run(async (s) => Number((await s.execute<Rows>(COUNT_RECORDS, []))[0]!.n), COUNT_DEADLINE_MS));
  // mysql2's pool keeps its connections in these (not part of its typed API; the version is pinned)
  const core = pool.pool as unknown as { _allConnections: { length: number }; _freeConnections: { length: number }; _connectionQueue: { length: number } };

  return {
    dialect: "mysql",
    insert: (record, options) =>
      count.track(
        run(async (s) => {
          const insert = async () => {
            try {
              await s.execute(insertRow.sql, insertRow.bind(toRow(record)));
              return true;
            } catch (e) {
              if (driverError(e)?.code === "ER_DUP_ENTRY") return false;
              throw e;
            }
          };
          if (!options?.journal) return insert();
          return s.transaction(async () => {
            const stored = await insert();
            if (stored) await journal(s, record.id);
            return stored;
          });
        }),
        (inserted) => (inserted ? 1 : 0),
      ),
    get: (id) => run((s) => get(s, id)),
    // The answer is the row as THIS change left it: the UPDATE and the read share one
    // transaction, so the row lock the UPDATE takes keeps every other writer out until the
    // read is done. No matched row (FOUND_ROWS: matched, not changed) is "not stored", even
    // if an INSERT lands a moment later.
    update: (id, changes, options) =>
      run(async (s) => {
        const set = toChanges(changes);
        if (Object.keys(set).length === 0) return get(s, id);
        const change = db
          .update(expenses)
          .set(set)
          .where(eq(expenses.id, Number(id)))
          .toSQL();
        return s.transaction(async () => {
          const result = await s.execute<mysql.ResultSetHeader>(change.sql, change.params);
          if (result.affectedRows === 0) return undefined;
          if (options?.journal) await journal(s, id);
          return get(s, id);
        });
      }),
    delete: (id, options) =>
      count.track(
        run(async (s) => {
          const remove = async () => (await s.execute<mysql.ResultSetHeader>(deleteById.sql, deleteById.bind({ id: Number(id) }))).affectedRows === 1;
          if (!options?.journal) return remove();
          return s.transaction(async () => {
            const deleted = await remove();
            if (deleted) await journal(s, id);
            return deleted;
          });
        }),
        (deleted) => (deleted ? -1 : 0),
      ),
    list: (after, limit) =>
      run(async (s) => {
        const rows = await s.execute<Rows>(pageAfter.sql, pageAfter.bind({ after: after === undefined ? -1 : Number(after), limit }));
        return rows.map((r) => fromRow(columnsToRow(r)));
      }),
    loadRing: () => run(loadRing),
    saveRing: (ring) =>
      run(async (s) => {
        const row = { epoch: ring.epoch, fingerprint: ring.fingerprint, ring: ring.text, savedAt: sql`NOW(3)` };
        const update = db
          .update(instanceRing)
          .set(row)
          .where(and(eq(instanceRing.role, CURRENT_RING), lt(instanceRing.epoch, ring.epoch)))
          .toSQL();
        const insert = db
          .insert(instanceRing)
          .values({ role: CURRENT_RING, ...row })
          .toSQL();
        // Compare-and-set without a transaction: a conditional UPDATE of the existing row, else
        // an INSERT of the first one (the primary key lets only one of two first saves in), else
        // the saved ring is at least as new. Another save landing between two of these steps
        // sends the loop round again; each round a save with a smaller epoch wins, which
        // cannot go on for long.
        for (let round = 1; ; round++) {
          if ((await s.execute<mysql.ResultSetHeader>(update.sql, update.params)).affectedRows === 1) return { saved: true as const };
          try {
            await s.execute(insert.sql, insert.params);
            return { saved: true as const };
          } catch (e) {
            if (driverError(e)?.code !== "ER_DUP_ENTRY") throw e;
          }
          const current = await loadRing(s);
          if (current && current.epoch >= ring.epoch) return { saved: false as const, current };
          if (round >= 10) throw new Error(`saving ring epoch ${ring.epoch}: other saves kept changing the ring; try again`);
        }
      }),
    loadRebalance: () => run((s) => loadRebalance(s)),
    saveRebalance: (next, expectedToken) =>
      // The read locks the row (or, without one, the gap where it goes), so two saves cannot both see the expected token.
      run((s) =>
        s.transaction(async () => {
          const current = await loadRebalance(s, true);
          if ((current?.token ?? null) !== expectedToken) return { saved: false as const, current };
          const row = { job: next.job, phase: next.phase, token: next.token, record: next.text, savedAt: sql`NOW(3)` };
          const save = db
            .insert(rebalance)
            .values({ name: CURRENT_REBALANCE, ...row })
            .onDuplicateKeyUpdate({ set: row })
            .toSQL();
          await s.execute(save.sql, save.params);
          return { saved: true as const };
        }),
      ),
    deleteRebalance: (expectedToken) =>
      run((s) =>
        s.transaction(async () => {
          const current = await loadRebalance(s, true);
          if (!current || current.token !== expectedToken) return false;
          await s.execute("DELETE FROM rebalance WHERE name = ?", [CURRENT_REBALANCE]);
          await s.execute("DELETE FROM rebalance_changes", []);
          return true;
        }),
      ),
    changes: (limit, afterSeq = -1) =>
      run(async (s) => {
        const rows = await s.execute<Rows>("SELECT seq, id FROM rebalance_changes WHERE seq > ? ORDER BY seq LIMIT ?", [afterSeq, limit]);
        return rows.map((r) => ({ seq: Number(r.seq), id: String(r.id) }));
      }),
    dropChanges: (seqs) =>
      bulk(async (s) => {
        for (const part of chunks(seqs, IDS_PER_STATEMENT)) await s.query("DELETE FROM rebalance_changes WHERE seq IN (?)", [part]);
      }),
    clearChanges: () => bulk((s) => s.execute("DELETE FROM rebalance_changes", [])).then(() => {}),
    getMany: (ids) =>
      bulk(async (s) => {
        const rows: ExpenseRow[] = [];
        for (const part of chunks(ids, IDS_PER_STATEMENT)) {
          const found = await s.query<Rows>("SELECT * FROM expenses WHERE id IN (?)", [part.map(Number)]);
          for (const r of found) rows.push(columnsToRow(r));
        }
        return rows.sort((a, b) => a.id - b.id).map(fromRow);
      }),
    putMany: async (records) => {
      // Rows are made first: a record that cannot be stored throws before anything is written.
      const rows = records.map(toRow);
      await count.track(
        bulk((s) =>
          s.transaction(async () => {
            // The rows it adds, as each statement itself reports them (under its own locks,
            // whatever runs beside it): a multi-row upsert's "Records: N  Duplicates: D" says
            // N - D were added. A one-row upsert reports no such line, and its affected rows
            // (1 for added, and 1 for an unchanged row too: mysql2 asks for found rows) cannot
            // tell, so one row is the plain INSERT that insert() sends, an upsert only when its id is stored.
            let inserted = 0;
            for (const part of rowBatches(rows)) {
              if (part.length === 1) {
                try {
                  await s.execute(insertRow.sql, insertRow.bind(part[0]!));
                  inserted += 1;
                } catch (e) {
                  if (driverError(e)?.code !== "ER_DUP_ENTRY") throw e;
                  await s.query(upsertRows(1), rowValues(part[0]!));
                }
                continue;
              }
              const result = await s.query<mysql.ResultSetHeader>(upsertRows(part.length), part.flatMap(rowValues));
              inserted += addedByUpsert(result, part.length);
            }
            return inserted;
          }),
        ),
        (inserted) => inserted,
      );
    },
    deleteMany: (ids) =>
      count.track(
        bulk((s) =>
          s.transaction(async () => {
            let deleted = 0;
            for (const part of chunks(ids, IDS_PER_STATEMENT)) {
              deleted += (await s.query<mysql.ResultSetHeader>("DELETE FROM expenses WHERE id IN (?)", [part.map(Number)])).affectedRows;
            }
            return deleted;
          }),
        ),
        (deleted) => -deleted,
      ),
    listIds: (after, limit) =>
      run(async (s) => {
        const rows = await s.execute<Rows>(idsAfter.sql, idsAfter.bind({ after: after === undefined ? -1 : Number(after), limit }));
        return rows.map((r) => String(r.id));
      }),
    async ping() {
      await run((s) => s.execute("SELECT 1", []), Math.min(PING_TIMEOUT_MS, target.timeoutMs));
      count.retry();
    },
    stats: () => {
      const open = core._allConnections.length;
      const idle = core._freeConnections.length;
      return {
        records: count.records,
        unavailable: availability.unavailable,
        pool: { max: target.poolSize, busy: open - idle, idle, waiting: core._connectionQueue.length },
      };
    },
    async close() {
      // not waiting for a count in the background (its deadline is long): ending the pool ends it
      await pool.end();
    },
  };
}

/**
 * The migration lock is a named server lock (GET_LOCK), held by the setup connection.
 * Without it after the wait, opening fails naming who holds it: migrating without it
 * could run a migration twice.
 */
function migrationTarget(conn: mysql.Connection, lockWaitS: number): MigrationTarget {
  return {
    async prepare() {
      await conn.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME NOT NULL)",
      );
    },
    async locked(work) {
      const [[got]] = await conn.query<mysql.RowDataPacket[]>("SELECT GET_LOCK(?, ?) AS got", [MIGRATION_LOCK, lockWaitS]);
      if (got?.got !== 1) throw new Error(await lockHolder(conn, lockWaitS));
      try {
        await work();
      } finally {
        await conn.query("SELECT RELEASE_LOCK(?)", [MIGRATION_LOCK]);
      }
    },
    async applied() {
      const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations");
      return new Set(rows.map((r) => Number(r.version)));
    },
    async apply(m) {
      for (const s of m.statements) await conn.query(s);
      await conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW())", [m.version, m.name]);
    },
  };
}

async function lockHolder(conn: mysql.Connection, waitedS: number): Promise<string> {
  const [[row]] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT p.ID AS id, p.USER AS user, p.HOST AS host FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
    [MIGRATION_LOCK],
  );
  const who = row ? `connection ${row.id} (${row.user}@${row.host})` : "another connection";
  return `cannot migrate the database: ${who} has held the migration lock "${MIGRATION_LOCK}" for over ${waitedS} s; is another instance stuck migrating it?`;
}

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The columns of the expenses table in the order of rowValues. */
const ROW_COLUMNS = Object.values(getTableColumns(expenses)).map((c) => c.name);

function rowValues(r: ExpenseRow): unknown[] {
  return [r.id, r.name, r.email, r.category, r.description, r.link, r.costCents, r.submitDate, r.status, r.decisionDate];
}

/** The rows a multi-row upsert added: Records - Duplicates from the statement's info line. */
function addedByUpsert(result: { readonly info?: string }, rows: number): number {
  const m = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(result.info ?? "");
  if (!m || Number(m[1]) !== rows) throw new Error(`an upsert of ${rows} rows reported ${JSON.stringify(result.info)}, not "Records: ${rows}  Duplicates: D"`);
  return rows - Number(m[2]);
}

/** `rows` rows into the expenses table, each replacing what its id held. */
function upsertRows(rows: number): string {
  const one = `(${ROW_COLUMNS.map(() => "?").join(", ")})`;
  const update = ROW_COLUMNS.filter((c) => c !== "id")
    .map((c) => `${c} = VALUES(${c})`)
    .join(", ");
  return `INSERT INTO expenses (${ROW_COLUMNS.join(", ")}) VALUES ${Array(rows).fill(one).join(", ")} ON DUPLICATE KEY UPDATE ${update}`;
}

/** Rows in batches whose statement stays under BULK_STATEMENT_BYTES (texts may be up to 4 bytes a character). */
function rowBatches(rows: readonly ExpenseRow[]): ExpenseRow[][] {
  const batches: ExpenseRow[][] = [];
  let batch: ExpenseRow[] = [];
  let bytes = 0;
  for (const r of rows) {
    const size = 4 * (r.name.length + r.email.length + r.category.length + r.description.length + r.link.length) + 128;
    if (batch.length > 0 && (bytes + size > BULK_STATEMENT_BYTES || batch.length >= IDS_PER_STATEMENT)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
