import { Counter, Gauge, type Registry } from "prom-client";
import { type HttpMetrics, ringMetric } from "../http/metrics.ts";
import type { Ring } from "../ring/ring.ts";
import type { ExpenseStore, MemberStats } from "../store/types.ts";

/** What an instance shows beside its requests: its database, records and ring, read at each scrape. */
export function instanceMetrics(http: HttpMetrics, store: ExpenseStore, ring: () => Ring | undefined): void {
  const registers = [http.registry];
  new Gauge({
    name: "shardctl_records",
    help: "Expense records in this instance's database (counted at start, then kept by this instance's own writes)",
    registers,
    collect() {
      const records = store.stats().records;
      if (records !== undefined) this.set(records);
    },
  });
  new Counter({
    name: "shardctl_db_errors_total",
    help: "Database operations that failed because the database could not serve them (unreachable, timed out, busy, full)",
    registers,
    collect() {
      this.reset();
      this.inc(store.stats().unavailable);
    },
  });
  new Gauge({
    name: "shardctl_db_pool_connections",
    help: "Connections of the database pool by state: busy (lent to an operation) or idle (MySQL only)",
    labelNames: ["state"],
    registers,
    collect() {
      const pool = store.stats().pool;
      if (!pool) return;
      this.set({ state: "busy" }, pool.busy);
      this.set({ state: "idle" }, pool.idle);
    },
  });
  new Gauge({
    name: "shardctl_db_pool_max_connections",
    help: "The most connections the pool opens (?pool=, MySQL only)",
    registers,
    collect() {
      const pool = store.stats().pool;
      if (pool) this.set(pool.max);
    },
  });
  new Gauge({
    name: "shardctl_db_pool_waiting",
    help: "Operations waiting for a pooled connection (MySQL only)",
    registers,
    collect() {
      const pool = store.stats().pool;
      if (pool) this.set(pool.waiting);
    },
  });
  if (store.stats().cluster) galeraMetrics(registers, store);
  ringMetric(http, ring);
}

/**
 * A shard on a Galera cluster: the member in use, and per member the figures worth an alert
 * (cluster size: a member lost; flow control: replication throttled by a member that cannot
 * keep up; receive queue: write-sets waiting to be applied), as the last check found them.
 */
function galeraMetrics(registers: Registry[], store: ExpenseStore): void {
  const cluster = () => store.stats().cluster!;
  const perMember = (name: string, help: string, value: (m: MemberStats) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["member"],
      registers,
      collect() {
        this.reset();
        for (const m of cluster().members) {
          const v = value(m);
          if (v !== null) this.set({ member: m.address }, v);
        }
      },
    });
  perMember("shardctl_galera_member_in_use", "1 for the Galera member this instance sends its database operations to, 0 for the others", (m) =>
    m.inUse ? 1 : 0,
  );
  perMember("shardctl_galera_member_usable", "1 for a member the instance may use (Primary, Synced, ready, newest view), else 0", (m) => (m.usable ? 1 : 0));
  perMember(
    "shardctl_galera_cluster_size",
    "wsrep_cluster_size: the members of the cluster as each member sees it (absent while it is down)",
    (m) => m.clusterSize,
  );
  perMember(
    "shardctl_galera_flow_control_paused_seconds_total",
    "wsrep_flow_control_paused_ns in seconds: time replication was paused by flow control since the member started (rate() is the fraction paused)",
    (m) => (m.flowControlPausedNs === null ? null : m.flowControlPausedNs / 1e9),
  );
  perMember("shardctl_galera_recv_queue", "wsrep_local_recv_queue: write-sets received and not yet applied", (m) => m.recvQueue);
  new Gauge({
    name: "shardctl_galera_usable_members",
    help: "Galera members the instance may use; 0 means the shard cannot serve (readiness is false)",
    registers,
    collect() {
      this.set(cluster().members.filter((m) => m.usable).length);
    },
  });
  new Counter({
    name: "shardctl_galera_member_moves_total",
    help: "Moves from one Galera member to another (each also logged with its cause)",
    registers,
    collect() {
      this.reset();
      this.inc(cluster().moves);
    },
  });
}
