/**
 * Before a rebalance changes anything: every node of both rings answers, with the ring
 * it holds and the rebalance it takes part in. From that: the old ring (given, or told
 * by the instances), and whether this rebalance is new, unfinished (resume) or done
 * (resume.ts).
 * Whatever makes the rebalance impossible before it starts is bad usage (exit 2); a
 * rebalance of other rings in progress is a refusal naming it (exit 1).
 */
import { failureReason } from "../client/errors.ts";
import { UsageError } from "../errors.ts";
import { RingMove } from "../ring/move.ts";
import type { Node } from "../ring/node.ts";
import { ringOfDocument } from "../ring/ring-file.ts";
import type { Ring } from "../ring/ring.ts";
import { RebalanceFailed } from "./errors.ts";
import { type AdminOptions, NodeAdmin } from "./node-admin.ts";
import { AdminAnswerError, type Participant } from "./participant.ts";
import type { RebalanceDetail } from "./protocol.ts";
import { type NodeRecords, type Resume, resumeOf } from "./resume.ts";

/** One node as the survey found it. */
export interface NodeState {
  readonly admin: Participant;
  /** The label of the ring it holds. */
  readonly ring: string;
  /** The rebalance it takes part in or took part in last, with its token. */
  readonly rebalance: RebalanceDetail | undefined;
}

export interface Survey {
  readonly move: RingMove;
  /** Every node of both rings, by name. */
  readonly nodes: readonly NodeState[];
  /** new: nothing of it happened yet; unfinished: a run of it stopped (resume); done: it finished, or every node holds the new ring already. */
  readonly status: Resume["found"];
}

export interface SurveyOptions extends AdminOptions {
  /** How the job speaks to a node (default: its admin endpoints over HTTP, NodeAdmin). */
  readonly participant?: (node: Node) => Participant;
}

/** GET /ring of `node`, as a UsageError when it cannot be read: the node is down, misnamed, or has no ring. */
async function ringOf(admin: Participant, role: string, fix: string) {
  let answer: Awaited<ReturnType<Participant["ring"]>>;
  try {
    answer = await admin.ring();
  } catch (e) {
    throw new UsageError(`node ${admin.name} (${admin.url}) of ${role} is not up: ${failureReason(e)}; ${fix}`);
  }
  if (answer === undefined) throw new UsageError(`node ${admin.name} (${admin.url}) of ${role} has no ring: it checks no ownership; ${fix}`);
  if (answer.servedBy !== admin.name) {
    throw new UsageError(`${admin.url} answers as node "${answer.servedBy}", but ${role} names it "${admin.name}": fix the ring file or the instance's --name`);
  }
  return answer.doc;
}

async function detailOf(admin: Participant): Promise<RebalanceDetail | undefined> {
  try {
    return await admin.detail();
  } catch (e) {
    if (e instanceof AdminAnswerError && e.status === 403) {
      throw new UsageError(`node ${admin.name} refuses admin requests: ${e.answer} (give the cluster's token in SHARDCTL_ADMIN_TOKEN)`);
    }
    throw new RebalanceFailed("survey", `node ${admin.name} (${admin.url}): ${failureReason(e)}`, { node: admin.name });
  }
}

/** Nodes in name order: the order leases are taken in. */
const byAdminName = (a: NodeState, b: NodeState) => (a.admin.name < b.admin.name ? -1 : a.admin.name > b.admin.name ? 1 : 0);

/**
 * The state of the rebalance from `from` (undefined: the ring the instances hold) to
 * `to`. Throws UsageError (exit 2) when it cannot start, RebalanceFailed (exit 1) when
 * another rebalance is in progress.
 */
export async function surveyCluster(to: Ring, from: Ring | undefined, options: SurveyOptions): Promise<Survey> {
  const participant = options.participant ?? ((node) => new NodeAdmin(node, options));
  const admins = new Map<string, Participant>();
  const adminOf = (node: Node) => {
    let admin = admins.get(node.name);
    if (!admin) {
      admin = participant(node);
      admins.set(node.name, admin);
    }
    return admin;
  };
  const startHint = (n: Node) => `start it (shardctl serve --ring NEW.json --name ${n.name}) before the rebalance: every node of the new ring must be up`;
  const newRings = await Promise.all(to.nodes.map((n) => ringOf(adminOf(n), `the new ring ${to.label}`, startHint(n))));
  const newDetails = await Promise.all(to.nodes.map((n) => detailOf(adminOf(n))));

  if (from === undefined) from = oldRingFromInstances(to, newRings, newDetails);
  if (to.epoch <= from.epoch) {
    throw new UsageError(
      `the new ring ${to.label} must have a larger epoch than the old ring ${from.label} (${to.epoch} is not larger ` +
        `than ${from.epoch}): give the new ring file "epoch": ${from.epoch + 1}`,
    );
  }
  const move = new RingMove(from, to);

  // Finished: every node of the new ring holds it and has this job done. The nodes that left
  // were switched and emptied before that, and may be shut down since: not asked.
  const finished = to.nodes.every((_, i) => newRings[i]!.label === to.label && newDetails[i]?.job === move.job && newDetails[i]?.phase === "done");
  if (finished) {
    const nodes = to.nodes.map((node, i) => ({ admin: adminOf(node), ring: to.label, rebalance: newDetails[i] })).sort(byAdminName);
    return { move, nodes, status: "done" };
  }

  const leaving = from.nodes.filter((n) => !to.node(n.name));
  const leaveHint = () => `a node that leaves must stay up until the rebalance ends (its records move away first)`;
  const leavingRings = await Promise.all(leaving.map((n) => ringOf(adminOf(n), `the old ring ${from!.label}`, leaveHint())));
  const leavingDetails = await Promise.all(leaving.map((n) => detailOf(adminOf(n))));

  const asked = [...to.nodes, ...leaving].map((node, i) => ({
    admin: adminOf(node),
    ring: String((i < to.nodes.length ? newRings[i] : leavingRings[i - to.nodes.length])!.label),
    rebalance: i < to.nodes.length ? newDetails[i] : leavingDetails[i - to.nodes.length],
  }));
  const nodes = asked.sort(byAdminName);

  for (const n of nodes) {
    const r = n.rebalance;
    if (r && r.job !== move.job && r.phase !== "done") {
      const who = r.holder ? `held by pid ${r.holder.pid} on ${r.holder.host}` : "held by no process now";
      throw new RebalanceFailed(
        "lease",
        `another rebalance is in progress: ${r.job} (phase ${r.phase} on node ${n.admin.name}, started ${r.started}, ${who}); ` +
          `finish it first (shardctl rebalance --to <its new ring>), then start this one`,
        { node: n.admin.name },
      );
    }
  }
  for (const n of nodes) {
    if (n.ring !== from.label && n.ring !== to.label) {
      throw new UsageError(
        `node ${n.admin.name} holds ring ${n.ring}, neither the old ring ${from.label} nor the new ring ${to.label}: ` +
          `check --from and --to against the cluster (shardctl ring check)`,
      );
    }
  }
  const { found } = resumeOf(
    move,
    nodes.map((n) => nodeRecords(n)),
  );
  return { move, nodes, status: found };
}

/** A node's stored records, as resumeOf reads them. */
export function nodeRecords(n: NodeState, rebalance = n.rebalance): NodeRecords {
  return { name: n.admin.name, ring: n.ring, rebalance };
}

/** The ring the instances of `to` hold besides `to` (or the old ring of a rebalance to `to` they took part in). */
function oldRingFromInstances(to: Ring, rings: readonly Record<string, unknown>[], details: readonly (RebalanceDetail | undefined)[]): Ring {
  const recorded = details.find((d) => d && d.to === to.label && d.phase !== "done") ?? details.find((d) => d && d.to === to.label);
  if (recorded) return ringOfDocument(recorded.fromRing, { what: "the old ring of the rebalance recorded on the instances" });
  const others = new Map<string, Record<string, unknown>>();
  for (const doc of rings) if (doc.label !== to.label) others.set(String(doc.label), doc);
  if (others.size === 1) {
    const { rebalance: _, ...doc } = [...others.values()][0]!;
    return ringOfDocument(doc, { what: "the ring the instances hold" });
  }
  if (others.size === 0) {
    throw new UsageError(
      `every node of the new ring ${to.label} holds it already, and none took part in a rebalance to it: nothing tells the old ring; give --from OLD.json`,
    );
  }
  throw new UsageError(`the nodes of the new ring hold different rings (${[...others.keys()].join(", ")}): give --from OLD.json`);
}
