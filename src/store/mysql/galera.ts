/**
 * A shard whose database is a Galera cluster (a URL naming several members): one member at a
 * time takes every operation (the single-writer pattern), and the store moves to another when
 * that one cannot serve.
 *
 * Which member: the first one, in the URL's order, that is usable: in the primary component
 * (wsrep_cluster_status), synced (wsrep_local_state_comment), ready (wsrep_ready), of the
 * cluster this shard opened on (wsrep_cluster_state_uuid) and holding the newest view of it
 * (wsrep_cluster_conf_id: a member back from a freeze reports its old view as Primary and
 * Synced for seconds). Every member is checked about once a second on a connection of its own.
 * The store moves away from the member in use when a check finds it unusable (frozen: no
 * answer within PROBE_TIMEOUT_MS; down; outside the primary component; a donor or desynced;
 * behind), or when an operation fails with StoreUnavailable and an immediate check agrees.
 * It does not move back when a better-placed member returns.
 *
 * A move, in order: no operation is lent the old member any more; the operations still on it
 * are answered 503 (the outcome of a write among them is unknown) and its connections are
 * dropped, so nothing it does from then on is acknowledged; then, on the new member, a
 * causality barrier (a read with wsrep_sync_wait) waits until that member has applied every
 * write-set the cluster had ordered. Every acknowledged write was ordered before the barrier,
 * so every read after the move sees it, while reads between moves pay nothing. Operations
 * that arrive during a move wait for it within their deadline.
 */
import mysql from "mysql2/promise";
import type { Availability, StoreLog } from "../availability.ts";
import { type ClusterStats, type MemberStats, StoreLoginRefused, StoreUnavailable } from "../types.ts";
import { type DatabaseServer, serverAddress } from "../url.ts";
import { access, dropPool, type MysqlTarget, openPool, prepareDatabase, runnerOptions } from "./connection.ts";
import { driverError } from "./errors.ts";
import { type Runner, runner } from "./runner.ts";

/** How often every member is checked. */
const PROBE_INTERVAL_MS = 1000;
/** A member that does not answer a check within this is taken for frozen (or lost). */
const PROBE_TIMEOUT_MS = 2000;
/**
 * The barrier waits for the cluster to order a message: while a member that just died is not
 * yet evicted (evs.suspect_timeout, 5 s by default), that takes as long as the eviction.
 */
const BARRIER_TIMEOUT_MS = 15_000;
/** How long the member in use may show an older view than another member's before it is left (views change a moment apart). */
const VIEW_GRACE_MS = 1500;

const NO_ANSWER = `no answer within ${PROBE_TIMEOUT_MS} ms (frozen, or overloaded?)`;

const STATUS_NAMES = [
  "wsrep_cluster_status",
  "wsrep_local_state_comment",
  "wsrep_ready",
  "wsrep_cluster_size",
  "wsrep_cluster_conf_id",
  "wsrep_cluster_state_uuid",
  "wsrep_flow_control_paused_ns",
  "wsrep_local_recv_queue",
];
const PROBE = `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_NAMES.map((n) => `'${n}'`).join(", ")})`;

/** What one check of a member found: its wsrep status, or why it did not answer. */
type Check = { readonly status: Readonly<Record<string, string>> } | { readonly down: string };

export interface GaleraOptions {
  readonly availability: Availability;
  readonly log?: StoreLog;
  readonly sessionSetup: string;
  readonly migrationLockWaitS: number;
}

/** An error in a line: the driver's code and message (the message alone when it names the code). */
const reason = (e: unknown) => {
  const d = driverError(e);
  if (!d) return e instanceof Error ? e.message : String(e);
  const code = String(d.code ?? d.errno);
  return d.message?.includes(code) ? d.message : `${code}${d.message ? `: ${d.message}` : ""}`;
};

/** One member of the cluster: its checks, and (while in use) its pool. */
class Member {
  readonly address: string;
  last: Check = { down: "not checked yet" };
  /** Since when its last checks found it on an older view of the cluster than another member's (performance.now()). */
  behindSince: number | undefined;
  private probeConnection: Promise<mysql.Connection> | undefined;
  private probing: Promise<Check> | undefined;
  /** While in use: the pool, its runner, and how to answer the operations on it when the store moves away. */
  private inUse: { pool: mysql.Pool; run: Runner; inFlight: Set<(why: string) => void> } | undefined;

  constructor(
    readonly server: DatabaseServer,
    private readonly target: MysqlTarget,
  ) {
    this.address = serverAddress(server);
  }

  /** Its wsrep status now (one check at a time; a caller during a check shares it). */
  check(): Promise<Check> {
    this.probing ??= this.read().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async read(): Promise<Check> {
    const reused = this.probeConnection !== undefined;
    const first = await this.readOnce();
    // a connection the member closed since the last check says only that: ask again on a new one (not after a timeout: that took long enough)
    return "down" in first && reused && first.down !== NO_ANSWER ? this.readOnce() : first;
  }

  private async readOnce(): Promise<Check> {
    this.probeConnection ??= mysql.createConnection(access(this.target, this.server)).then((c) => {
      c.on("error", () => {});
      return c;
    });
    const connection = this.probeConnection;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(NO_ANSWER)), PROBE_TIMEOUT_MS);
    });
    try {
      const [rows] = await Promise.race([connection.then((c) => c.query<mysql.RowDataPacket[]>(PROBE)), late]);
      this.last = { status: Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)])) };
    } catch (e) {
      // a connection that failed or hangs is never asked again: the next check opens another
      if (this.probeConnection === connection) this.probeConnection = undefined;
      connection.then(
        (c) => c.destroy(),
        () => {},
      );
      this.last = { down: reason(e) };
    } finally {
      clearTimeout(timer);
    }
    return this.last;
  }

  /** Opens its pool: operations may be lent it from now on. */
  use(sessionSetup: string, availability: Availability) {
    const pool = openPool(this.target, this.server, sessionSetup);
    this.inUse = { pool, run: runner(pool, availability, runnerOptions(this.target)), inFlight: new Set() };
  }

  /** Runs `work` on its pool; an operation still on it when the store moves away is answered StoreUnavailable then. */
  serve<T>(work: Parameters<Runner>[0], deadlineMs: number): Promise<T> {
    const on = this.inUse;
    if (!on) return Promise.reject(new StoreUnavailable(`database member ${this.address} is no longer in use`));
    return new Promise<T>((resolve, reject) => {
      // what abandon() calls: the answer comes now, whatever the operation does later (its own settling is ignored then)
      const cut = (why: string) => {
        // it may have reached the server: a write's outcome is not known
        const moved = new StoreUnavailable(`${why}; the operation was cut off there`);
        moved.outcomeUnknown = true;
        reject(moved);
      };
      on.inFlight.add(cut);
      (on.run(work, deadlineMs) as Promise<T>).then(resolve, reject).finally(() => on.inFlight.delete(cut));
    });
  }

  /** Stops using it: the operations on it are answered at once and its connections dropped (a frozen server never answers a polite QUIT). */
  abandon(why: string) {
    const on = this.inUse;
    this.inUse = undefined;
    if (!on) return;
    for (const cut of on.inFlight) cut(why);
    on.inFlight.clear();
    dropPool(on.pool);
  }

  /** Closes its pool politely (the store closes) and its check connection. */
  async close() {
    const on = this.inUse;
    this.inUse = undefined;
    this.probeConnection?.then(
      (c) => c.destroy(),
      () => {},
    );
    this.probeConnection = undefined;
    if (on) await on.pool.end();
  }

  get pool(): mysql.Pool | undefined {
    return this.inUse?.pool;
  }
}

/** The members of one shard's Galera cluster, the one in use, and the moves between them. */
export class GaleraMembers {
  readonly run: Runner;
  private current: Member | undefined;
  private since: Date | undefined;
  private moving: Promise<void> | undefined;
  private moves = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The cluster this shard opened on (wsrep_cluster_state_uuid): a member of another is never used. */
  private clusterUuid: string | undefined;
  /** The line said when no member is usable, so that an outage is said once, not every second. */
  private outage: { since: number } | undefined;
  private barrierConnection: mysql.Connection | undefined;

  private constructor(
    private readonly target: MysqlTarget,
    private readonly members: readonly Member[],
    private readonly options: GaleraOptions,
  ) {
    this.run = (work, deadlineMs = target.timeoutMs) => this.lend(work, deadlineMs);
  }

  /**
   * Checks every member, prepares the database (created if missing, migrated, counted) on the
   * first usable one and opens its pool. Throws StoreUnavailable naming every member's problem
   * when none is usable (StoreLoginRefused when the login is refused).
   */
  static async open(target: MysqlTarget, options: GaleraOptions): Promise<{ members: GaleraMembers; records: number }> {
    const g = new GaleraMembers(
      target,
      target.members.map((s) => new Member(s, target)),
      options,
    );
    await g.checkAll();
    const tried = new Map<Member, string>();
    for (const m of g.usable()) {
      try {
        const records = await prepareDatabase(target, m.server, options.migrationLockWaitS);
        g.clusterUuid = statusOf(m)?.wsrep_cluster_state_uuid;
        g.start(m, undefined, "the first usable member in the URL's order");
        g.schedule();
        return { members: g, records };
      } catch (e) {
        if (e instanceof StoreLoginRefused || !(e instanceof StoreUnavailable)) {
          await g.close();
          throw e;
        }
        tried.set(m, `preparing the database failed: ${e.message}`);
      }
    }
    const message = `no member of the Galera cluster is usable: ${g.problems(tried)}`;
    await g.close();
    throw new StoreUnavailable(message);
  }

  /** The members now, as the last checks found them. */
  stats(): ClusterStats {
    return {
      member: this.current?.address ?? null,
      since: this.current && this.since ? this.since.toISOString() : null,
      moves: this.moves,
      members: this.members.map((m): MemberStats => {
        const status = statusOf(m);
        const problem = this.problemOf(m);
        const number = (name: string) => (status?.[name] === undefined ? null : Number(status[name]));
        return {
          address: m.address,
          state: status?.wsrep_local_state_comment ?? "down",
          component: status?.wsrep_cluster_status ?? null,
          clusterSize: number("wsrep_cluster_size"),
          inUse: m === this.current,
          usable: problem === undefined,
          problem: problem ?? null,
          flowControlPausedNs: number("wsrep_flow_control_paused_ns"),
          recvQueue: number("wsrep_local_recv_queue"),
        };
      }),
    };
  }

  /** The pool of the member in use, for the store's figures. */
  get pool(): mysql.Pool | undefined {
    return this.current?.pool;
  }

  /**
   * Resolves when the member in use is usable now (checked now, not from the last check: a
   * member outside the primary component still answers SELECT 1) and answers `probe` (the
   * store's readiness query); otherwise rejects with StoreUnavailable saying why, and the store moves.
   */
  async ping(probe: string, timeoutMs: number): Promise<void> {
    const m = this.current;
    if (m) {
      await this.check([m]);
      const problem = this.problemOf(m);
      if (problem !== undefined && m === this.current) {
        void this.move(m, problem);
        throw new StoreUnavailable(`database member ${m.address} in use ${problem}; moving to another`);
      }
    }
    await this.run((s) => s.execute(probe, []), timeoutMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.barrierConnection?.destroy();
    await this.moving;
    await Promise.all(this.members.map((m) => m.close()));
  }

  private async lend<T>(work: Parameters<Runner>[0], deadlineMs: number): Promise<T> {
    const started = performance.now();
    let m = this.current;
    if (!m && this.moving) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.moving, new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(timer);
      m = this.current;
    }
    const left = deadlineMs - (performance.now() - started);
    if (!m || left <= 0) {
      const e = new StoreUnavailable(
        this.moving ? `the database is moving to another Galera member and was not done within ${deadlineMs} ms` : this.noMember(),
      );
      this.options.availability.failed(e);
      throw e;
    }
    try {
      return await m.serve<T>(work, Math.round(left));
    } catch (e) {
      if (e instanceof StoreUnavailable && m === this.current) this.suspect(m);
      throw e;
    }
  }

  /** An operation on `m` failed as if the database were not there: check it now, and move if it is unusable. */
  private suspect(m: Member) {
    void this.check([m]).then(() => {
      const problem = this.problemOf(m);
      if (problem !== undefined && m === this.current) return this.move(m, problem);
    });
  }

  private schedule() {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule()), PROBE_INTERVAL_MS);
    this.timer.unref?.();
  }

  /** Every member checked; the member in use left if unusable, or one found when none is in use. */
  private async tick() {
    await this.checkAll();
    if (this.closed || this.moving) return;
    const m = this.current;
    const problem = m ? this.problemOf(m) : undefined;
    if (!m || problem !== undefined) await this.move(m, problem ?? "no member in use");
  }

  private checkAll() {
    return this.check(this.members);
  }

  /** The usable members, in the URL's order. */
  private usable(): Member[] {
    return this.members.filter((m) => this.problemOf(m) === undefined);
  }

  /** Why `m` may not be used now (from its last check), or undefined when it may. */
  private problemOf(m: Member): string | undefined {
    if ("down" in m.last) return `is down: ${m.last.down}`;
    const s = m.last.status;
    // a server without a Galera provider loaded (wsrep_on off) has wsrep_cluster_status "Disconnected" and no local state
    if (s.wsrep_local_state_comment === undefined) return "is not a Galera member (no wsrep provider: wsrep_on is off)";
    if (s.wsrep_cluster_status !== "Primary") return `is outside the primary component (${s.wsrep_cluster_status}: quorum lost, or cut off from the others)`;
    if (s.wsrep_local_state_comment !== "Synced") return `is ${s.wsrep_local_state_comment}, not Synced (a donor, desynced, or still joining)`;
    if (s.wsrep_ready !== "ON") return "is not ready (wsrep_ready OFF)";
    const uuid = this.cluster;
    if (s.wsrep_cluster_state_uuid !== uuid) return `belongs to another cluster (state ${s.wsrep_cluster_state_uuid}, this shard's is ${uuid})`;
    const view = Number(s.wsrep_cluster_conf_id ?? 0);
    const newest = this.newestView(uuid);
    // members install a new view a moment apart: the member in use is left for an old one only when it keeps it (a freeze, a cut)
    const lagging = m === this.current && (m.behindSince === undefined || performance.now() - m.behindSince < VIEW_GRACE_MS);
    if (view < newest && !lagging) {
      return `holds an old view of the cluster (configuration ${view}, the others ${newest}): it was frozen or cut off and has not caught up`;
    }
    return undefined;
  }

  /** The shard's cluster (wsrep_cluster_state_uuid): the one it opened on; before that, the first primary component's in the URL's order. */
  private get cluster(): string | undefined {
    return this.clusterUuid ?? this.members.map(statusOf).find((o) => o?.wsrep_cluster_status === "Primary")?.wsrep_cluster_state_uuid;
  }

  /** The newest view (wsrep_cluster_conf_id) of the primary component of cluster `uuid`, among the members' last checks. */
  private newestView(uuid: string | undefined): number {
    const views = this.members
      .map(statusOf)
      .filter((o) => o?.wsrep_cluster_status === "Primary" && o.wsrep_cluster_state_uuid === uuid)
      .map((o) => Number(o!.wsrep_cluster_conf_id ?? 0));
    // a primary component's configurations are counted from 1 (outside one it is 2^64 - 1, filtered out above)
    return Math.max(0, ...views);
  }

  /** Checks `members` now, then notes which hold an older view than the newest (and since when). */
  private async check(members: readonly Member[]): Promise<void> {
    await Promise.all(members.map((m) => m.check()));
    const newest = this.newestView(this.cluster);
    for (const m of this.members) {
      const s = statusOf(m);
      const behind = s !== undefined && Number(s.wsrep_cluster_conf_id ?? 0) < newest;
      if (!behind) m.behindSince = undefined;
      else m.behindSince ??= performance.now();
    }
  }

  /** Every member's problem, or that it is usable, for a message. */
  private problems(more = new Map<Member, string>()): string {
    return this.members.map((m) => `${m.address} ${more.get(m) ?? this.problemOf(m) ?? "is usable"}`).join("; ");
  }

  private noMember(): string {
    return `no member of the Galera cluster is usable: ${this.problems()}`;
  }

  /**
   * Leaves `from` (when given) for the first usable member (`from` last), behind a causality
   * barrier; one move at a time. Without a usable member, the store has none until a later
   * check finds one.
   */
  private move(from: Member | undefined, cause: string): Promise<void> {
    if (this.moving || this.closed) return this.moving ?? Promise.resolve();
    this.moving = (async () => {
      if (from && from === this.current) {
        this.current = undefined;
        this.since = undefined;
        from.abandon(`moved away from database member ${from.address}, which ${cause}`);
      }
      if (from) await this.checkAll();
      const tried = new Map<Member, string>();
      const candidates = this.usable().sort((a, b) => Number(a === from) - Number(b === from));
      for (const m of candidates) {
        if (this.closed) return;
        try {
          await this.barrier(m);
        } catch (e) {
          tried.set(m, `failed the causality barrier: ${reason(e)}`);
          continue;
        }
        if (this.closed) return;
        this.start(m, from, from ? `${from.address} ${cause}` : cause);
        return;
      }
      if (!this.outage) {
        this.outage = { since: performance.now() };
        this.options.log?.(`galera: ${from ? `left database member ${from.address}, which ${cause}; ` : ""}${this.noMember()}`);
        for (const [m, why] of tried) this.options.log?.(`galera: ${m.address} ${why}`);
      }
    })().finally(() => {
      this.moving = undefined;
    });
    return this.moving;
  }

  /** Puts `m` in use and says so. */
  private start(m: Member, from: Member | undefined, cause: string) {
    m.use(this.options.sessionSetup, this.options.availability);
    this.current = m;
    this.since = new Date();
    const after = this.outage ? ` after ${((performance.now() - this.outage.since) / 1000).toFixed(1)} s without a usable member` : "";
    this.outage = undefined;
    if (from) this.moves++;
    const what = from ? `moved from database member ${from.address} to ${m.address}` : `using database member ${m.address}`;
    this.options.log?.(`galera: ${what} (${describe(m)})${after}: ${cause}`);
  }

  /** Waits until `m` has applied every write-set the cluster ordered before now (a read with wsrep_sync_wait). */
  private async barrier(m: Member) {
    const c = await mysql.createConnection(access(this.target, m.server));
    c.on("error", () => {});
    this.barrierConnection = c;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${BARRIER_TIMEOUT_MS} ms`)), BARRIER_TIMEOUT_MS);
      });
      await Promise.race([
        (async () => {
          await c.query("SET SESSION wsrep_sync_wait = 1");
          await c.query("SELECT 1");
        })(),
        late,
      ]);
    } finally {
      clearTimeout(timer);
      this.barrierConnection = undefined;
      c.destroy();
    }
  }
}

function statusOf(m: Member): Readonly<Record<string, string>> | undefined {
  return "status" in m.last ? m.last.status : undefined;
}

/** `Synced, cluster of 3`. */
function describe(m: Member): string {
  const s = statusOf(m);
  return s ? `${s.wsrep_local_state_comment}, cluster of ${s.wsrep_cluster_size}` : "down";
}
