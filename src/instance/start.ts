/**
 * One expense instance on a socket: open the store, bind, serve the app; `stop()`
 * lets requests in flight finish, then closes the store (and its pool).
 */
import { dated, hostPort, isWrite, LISTENER, routable, whenSettled } from "../http/listen.ts";
import { openStore } from "../store/open.ts";
import { parseStoreUrl } from "../store/url.ts";
import { ringLabel, type Ring } from "../ring/ring.ts";
import type { ExpenseStore } from "../store/types.ts";
import { createHandler, type LogFormat, type RequestLog } from "./app.ts";
import { internalErrorResponse } from "../http/errors.ts";
import { Rebalancing } from "./rebalance/rebalancing.ts";
import { Repairing } from "./repair/repairing.ts";
import { checkMember, RingGuard, ringAtStart, RingStartError, type Adoption, type GivenRing } from "./ring-guard.ts";

export interface InstanceOptions {
  /** 0 picks a free port; `port` of the result is the real one. */
  port: number;
  host?: string;
  /** A --db URL; default `sqlite:./data/shardctl-<port>.sqlite`. */
  db?: string;
  /** Default `host:port`, the ring's default node name for this address. */
  name?: string;
  log?: RequestLog;
  /** How request log lines read: text (default) or json. */
  logFormat?: LogFormat;
  /**
   * The ring given at start (flags, file, environment): the instance is ring-aware, and
   * its name must be a node of it (else RingStartError before anything starts). Without
   * one, the instance uses the ring its database holds, if any.
   */
  ring?: GivenRing;
  /** SHARDCTL_ADMIN_TOKEN: what admin requests (PUT /ring) must present; without it, loopback only. */
  adminToken?: string;
  /** How long a ring switch waits for the requests in flight; default 10 s. */
  ringSwitchTimeoutMs?: number;
  /**
   * Where the instance says what happens to it while it runs (its database going away and
   * coming back), as `node <name>: <line>`; a command prefixes its name. Default stderr.
   */
  note?: (line: string) => void;
}

export interface Instance {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  readonly db: string;
  /** The ring in force now; undefined when the instance checks no ownership. */
  readonly ring: Ring | undefined;
  /** What the start found to say about the ring (where it came from, warnings), for the operator. */
  readonly notes: readonly string[];
  /** Puts a newer ring in force, as PUT /ring does (for a process that starts its own instances). */
  adoptRing(ring: Ring): Promise<Adoption>;
  stop(): Promise<void>;
}

export const defaultDbUrl = (port: number) => `sqlite:./data/shardctl-${port}.sqlite`;

/** The answer while the store is still opening: a JSON error body (`{ error, message }`) with X-Shard-Node, as every answer has. */
function starting(node: string): Response {
  return Response.json(
    { error: "starting", message: "the instance is starting: its database is not open yet; retry shortly" },
    { status: 503, headers: { "x-shard-node": node, "retry-after": "1" } },
  );
}

/**
 * While a rebalance is unfinished in the database, the instance may be given its old or
 * its new ring only: any other would change ownership under the move.
 */
async function checkRebalanceRing(store: ExpenseStore, given: GivenRing | undefined): Promise<{ given: GivenRing | undefined; notes: string[] }> {
  const saved = given && (await store.loadRebalance());
  if (!saved || saved.phase === "done") return { given, notes: [] };
  if (saved.job.split(" -> ").includes(given.ring.label)) {
    // Until the rebalance switches this node, it keeps the ring it holds: a source that took
    // the new ring would say so on every answer and send clients to targets not switched yet.
    const held = await store.loadRing();
    const heldLabel = held && ringLabel(held.epoch, held.fingerprint);
    if ((saved.phase === "copying" || saved.phase === "fenced") && heldLabel !== undefined && heldLabel !== given.ring.label) {
      return {
        given: undefined,
        notes: [
          `warning: ${given.source} gives ring ${given.ring.label}, but this node has not switched yet in rebalance ` +
            `${saved.job}: it keeps ring ${heldLabel} until the rebalance switches it`,
        ],
      };
    }
    return { given, notes: [] };
  }
  throw new RingStartError(
    `${given.source} gives ring ${given.ring.label}, but this database takes part in rebalance ${saved.job} (phase ${saved.phase}): ` +
      `start the instance with one of those rings, or without a ring option, and finish the rebalance first`,
  );
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const { port, host = "127.0.0.1", db, name, log, ring: given } = options;
  // A malformed --db, or a name not in the ring, is a usage error whatever happens to the
  // port: found before binding, so a busy port cannot hide it. The default URL is always
  // well-formed; a default name is known before binding unless the port is 0.
  if (db !== undefined) parseStoreUrl(db);
  if (given && (name !== undefined || port !== 0)) checkMember(given, name ?? hostPort(host, port));
  // Bind first so that port 0 resolves before the default name and database are chosen;
  // until the store is open and the app exists, every request gets a JSON 503 "starting".
  let handle: ((request: Request) => Promise<Response>) | undefined;
  let settleWrites = false;
  let nodeName = name ?? "";
  // Set once the store is open (still unset in the error hook below while it opens).
  let guard: RingGuard;
  // The peer address of a request routed under another Request object (see routable).
  const peers = new WeakMap<Request, string | undefined>();
  const server: Bun.Server<undefined> = Bun.serve({
    ...LISTENER,
    port,
    hostname: host,
    // The app's own limit (MAX_BODY_BYTES, body.ts) answers every oversized body with a JSON
    // 413 and X-Shard-Node, from Content-Length before reading or while streaming a chunked
    // body, so it never buffers more than the limit. Bun's own check would answer first, with
    // a bare 413, for anything above this backstop: keep it out of the way.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // An error that escapes the app is logged and answered with the JSON error body.
    error: (e) => {
      console.error(`[${nodeName}] unhandled error:`, e);
      // the last-resort 500 carries the ring in force, as every answer does
      return internalErrorResponse(nodeName, guard?.ring?.label);
    },
    fetch: (request, bun) => {
      if (!handle) return request.method === "HEAD" ? dated(starting(nodeName)) : starting(nodeName);
      const routed = routable(request);
      if (routed !== request) peers.set(routed, bun.requestIP(request)?.address);
      // A write on MySQL waits for the database: it runs only once the client's connection is
      // known to stay (whenSettled). SQLite answers within the turn, and Bun answers pipelined
      // requests in order then: no wait, which would itself make Bun close the connection.
      if (settleWrites && isWrite(request.method)) return whenSettled(request, () => handle!(routed));
      return request.method === "HEAD" ? dated(handle(routed)) : handle(routed);
    },
  });
  const realPort = server.port!;
  // Set before the first await, so even an answer while the store opens names the node.
  nodeName = name ?? hostPort(host, realPort);
  const url = db ?? defaultDbUrl(realPort);
  const note = options.note ?? ((line: string) => console.error(line));
  let store: ExpenseStore | undefined;
  let rebalancing: Rebalancing;
  let notes: readonly string[];
  try {
    if (given) checkMember(given, nodeName);
    store = await openStore(url, (line) => note(`node ${nodeName}: ${line}`));
    const checked = await checkRebalanceRing(store, given);
    const start = await ringAtStart(store, checked.given, nodeName);
    notes = [...checked.notes, ...start.notes];
    guard = new RingGuard(nodeName, store, start.ring, { switchTimeoutMs: options.ringSwitchTimeoutMs });
    rebalancing = await Rebalancing.load(nodeName, store, guard);
    const unfinished = rebalancing.summary();
    if (unfinished && unfinished.phase !== "done")
      notes = [...notes, `rebalance ${unfinished.job} is unfinished here (phase ${unfinished.phase}): it goes on when shardctl rebalance runs again`];
  } catch (e) {
    await server.stop(true);
    await store?.close();
    throw e;
  }
  const admin = {
    token: options.adminToken,
    peerAddress: (request: Request) => (peers.has(request) ? peers.get(request) : server.requestIP(request)?.address),
  };
  // A quiet instance (no request log) also keeps its ring notes to itself.
  const handler = createHandler({
    store,
    name: nodeName,
    log,
    logFormat: options.logFormat,
    guard,
    admin,
    rebalancing,
    repairing: new Repairing(nodeName, store, guard, () => rebalancing.unfinished),
    note: log === false ? () => {} : note,
  });
  handle = handler.handle;
  settleWrites = store.dialect === "mysql";

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${hostPort(host, realPort)}`,
    port: realPort,
    name: nodeName,
    db: url,
    get ring() {
      return guard.ring;
    },
    notes,
    adoptRing: (ring) => guard.adopt(ring),
    stop: () =>
      (stopping ??= (async () => {
        await server.stop(false);
        handler.flushLog();
        await store!.close();
      })()),
  };
}
