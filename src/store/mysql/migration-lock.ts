/**
 * How the migrations (store/migrate.ts) run on MySQL: on the setup connection, under a lock
 * that only one opening store holds at a time. Without the lock after the wait, opening fails
 * naming who holds it: migrating without it could run a migration twice.
 *
 * On a plain server the lock is a named server lock (GET_LOCK). On a Galera member GET_LOCK
 * is local to that member (two instances opening through two members would both get it), so
 * there the lock is a row, replicated like any other: a lease in schema_migration_lock that an
 * INSERT takes (of two INSERTs through two members, certification lets one in), renewed while
 * the migrations run and deleted after. A holder that dies leaves a lease that expires after
 * LEASE_S; the next opening takes it over then.
 */
import { hostname } from "node:os";
import type mysql from "mysql2/promise";
import type { MigrationTarget } from "../migrate.ts";
import { driverError } from "./errors.ts";

const MIGRATION_LOCK = "shardctl_migrations";
/** A lease lasts this long unless renewed; its holder renews it every third of it. */
const LEASE_S = 15;
/** Between two tries for a lease another holder has. */
const LEASE_RETRY_MS = 250;

/**
 * `renewals`, given on a Galera member: a second connection for renewing the lease while the
 * setup connection runs the migrations; the lock is then the replicated lease.
 */
export function migrationTarget(conn: mysql.Connection, lockWaitS: number, renewals?: () => Promise<mysql.Connection>): MigrationTarget {
  let lease: Lease | undefined;
  return {
    async prepare() {
      await conn.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME NOT NULL)",
      );
      if (renewals) {
        await conn.query(
          "CREATE TABLE IF NOT EXISTS schema_migration_lock " +
            "(name VARCHAR(64) NOT NULL PRIMARY KEY, holder VARCHAR(255) NOT NULL, expires_at DATETIME(3) NOT NULL)",
        );
      }
    },
    async locked(work) {
      if (!renewals) return serverLocked(conn, lockWaitS, work);
      lease = await Lease.take(conn, lockWaitS, renewals);
      try {
        await work();
      } finally {
        await lease.release();
        lease = undefined;
      }
    },
    async applied() {
      const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations");
      return new Set(rows.map((r) => Number(r.version)));
    },
    async apply(m) {
      for (const s of m.statements) {
        lease?.check();
        await conn.query(s);
      }
      lease?.check();
      await conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW())", [m.version, m.name]);
    },
  };
}

async function serverLocked(conn: mysql.Connection, lockWaitS: number, work: () => Promise<void>): Promise<void> {
  const [[got]] = await conn.query<mysql.RowDataPacket[]>("SELECT GET_LOCK(?, ?) AS got", [MIGRATION_LOCK, lockWaitS]);
  if (got?.got !== 1) throw new Error(await lockHolder(conn, lockWaitS));
  try {
    await work();
  } finally {
    await conn.query("SELECT RELEASE_LOCK(?)", [MIGRATION_LOCK]);
  }
}

async function lockHolder(conn: mysql.Connection, waitedS: number): Promise<string> {
  const [[row]] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT p.ID AS id, p.USER AS user, p.HOST AS host FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
    [MIGRATION_LOCK],
  );
  const who = row ? `connection ${row.id} (${row.user}@${row.host})` : "another connection";
  return `cannot migrate the database: ${who} has held the migration lock "${MIGRATION_LOCK}" for over ${waitedS} s; is another instance stuck migrating it?`;
}

/** Lost lock races of the lease's statements (certification conflicts on Galera): another holder won, try again. */
const lostRace = (e: unknown) => ["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"].includes(driverError(e)?.code ?? "");

/** The replicated lease of a Galera cluster's migration lock, held by this opening store. */
class Lease {
  private lost: string | undefined;
  private renewing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly conn: mysql.Connection,
    private readonly holder: string,
    private readonly renewer: mysql.Connection,
    private readonly timer: ReturnType<typeof setInterval>,
  ) {}

  static async take(conn: mysql.Connection, waitS: number, renewals: () => Promise<mysql.Connection>): Promise<Lease> {
    const holder = `${hostname()} pid ${process.pid} (${Math.random().toString(36).slice(2, 10)})`;
    const deadline = performance.now() + waitS * 1000;
    for (;;) {
      try {
        // an expired lease is nobody's: its holder died, or lost its way to the cluster
        await conn.query("DELETE FROM schema_migration_lock WHERE name = ? AND expires_at < NOW(3)", [MIGRATION_LOCK]);
        await conn.query("INSERT INTO schema_migration_lock (name, holder, expires_at) VALUES (?, ?, NOW(3) + INTERVAL ? SECOND)", [
          MIGRATION_LOCK,
          holder,
          LEASE_S,
        ]);
        break;
      } catch (e) {
        if (driverError(e)?.code !== "ER_DUP_ENTRY" && !lostRace(e)) throw e;
      }
      if (performance.now() > deadline) throw new Error(await leaseHolder(conn, waitS));
      await Bun.sleep(LEASE_RETRY_MS);
    }
    const renewer = await renewals().catch(async (e: unknown) => {
      await conn.query("DELETE FROM schema_migration_lock WHERE name = ? AND holder = ?", [MIGRATION_LOCK, holder]).catch(() => {});
      throw e;
    });
    let lease: Lease | undefined;
    const timer = setInterval(() => lease?.renew(), (LEASE_S * 1000) / 3);
    lease = new Lease(conn, holder, renewer, timer);
    return lease;
  }

  private renew() {
    this.renewing = this.renewing.then(async () => {
      if (this.lost) return;
      try {
        const [result] = await this.renewer.query<mysql.ResultSetHeader>(
          "UPDATE schema_migration_lock SET expires_at = NOW(3) + INTERVAL ? SECOND WHERE name = ? AND holder = ?",
          [LEASE_S, MIGRATION_LOCK, this.holder],
        );
        if (result.affectedRows !== 1) this.lost = "it expired and another instance took it";
      } catch (e) {
        if (!lostRace(e)) this.lost = `renewing it failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    });
  }

  /** Throws when the lease was lost: migrating on could run a migration beside its new holder. */
  check() {
    if (this.lost) throw new Error(`cannot migrate the database: lost the migration lock "${MIGRATION_LOCK}" (${this.lost}); opening again retries`);
  }

  async release() {
    clearInterval(this.timer);
    await this.renewing;
    await this.renewer.end().catch(() => this.renewer.destroy());
    if (!this.lost) await this.conn.query("DELETE FROM schema_migration_lock WHERE name = ? AND holder = ?", [MIGRATION_LOCK, this.holder]);
  }
}

async function leaseHolder(conn: mysql.Connection, waitedS: number): Promise<string> {
  const [[row]] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT holder, DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i:%s') AS expires FROM schema_migration_lock WHERE name = ?",
    [MIGRATION_LOCK],
  );
  const who = row ? `${row.holder}` : "another instance";
  const until = row ? ` (its lease, a row of schema_migration_lock replicated across the Galera cluster, runs until ${row.expires} unless renewed)` : "";
  return (
    `cannot migrate the database: ${who} has held the migration lock "${MIGRATION_LOCK}" for over ${waitedS} s${until}; ` +
    "is another instance stuck migrating it?"
  );
}
