/**
 * What `client verify` can say about the cause when the pattern of its findings is
 * clear:
 *
 *   shared-database  two nodes list exactly the same records: two instances answering
 *                    from one database (each record is then on its owner and a copy on
 *                    the other).
 *   other-ring       many records are off their owner, but nearly all of them sit where
 *                    another ring would put them: the common alternatives are tried
 *                    (other vnodes; names as host:port, as 1, 2, 3, or swapped between
 *                    the addresses) and the best one is named.
 *
 * Rings are compared by address: a record "fits" a ring when the node it was found on
 * has the url the ring gives its owner.
 */
import { DEFAULT_VNODES, RingError } from "../ring/hash-ring.ts";
import { formatNodeList, nodeAddress, type Node } from "../ring/node.ts";
import { Ring } from "../ring/ring.ts";

export type LikelyCause =
  | {
      readonly kind: "short-node-list";
      /** The nodes the list left out. */
      readonly left: readonly string[];
      /** The node list the records fit (the ring in force without them). */
      readonly nodes: string;
      /** Record copies found where that list puts them (or on their owner among the nodes left out), of all found, and where the ring in force puts them. */
      readonly fit: number;
      readonly of: number;
      readonly fitInForce: number;
    }
  | { readonly kind: "shared-database"; readonly nodes: readonly [string, string]; readonly records: number }
  | {
      readonly kind: "other-ring";
      /** The options that give the ring the records fit. */
      readonly nodes: string;
      readonly vnodes: number;
      /** Record copies found where that ring puts them, of all found. */
      readonly fit: number;
      readonly of: number;
      /** ...and where the ring in force puts them. */
      readonly fitInForce: number;
    };

/** Vnode counts tried: the default, one point per node (what `--vnodes 1` and demo's 5/1/4 table use), round and power-of-two numbers. */
const COMMON_VNODES = [1, 2, 3, 4, 5, 8, 10, 16, 20, 32, 40, 50, 64, 100, 128, 150, 160, 200, 256, 500, 512, 1000, 1024];
/** Records sampled to score a ring: enough to tell rings apart, bounded work. */
const SAMPLE = 2000;
/** A ring is named only when it places this share of the records, and clearly more than the ring in force. */
const CONVINCING = 0.95;

/**
 * `listings`: each node's ids as listed (node name -> ids); `offOwner`: how many copies
 * verify found off their owner (misplaced and extra).
 */
export function likelyCauses(ring: Ring, listings: ReadonlyMap<string, readonly string[]>, offOwner: number): LikelyCause[] {
  const copies = [...listings].flatMap(([name, ids]) => ids.map((id) => ({ id, url: ring.node(name)!.url })));
  // A few records suffice: a ring without a node moves that node's records only, so every other one fits it too.
  const short = offOwner >= SHORT_LIST_MIN ? shortNodeList(ring, copies) : undefined;
  if (short) return [short];
  const causes: LikelyCause[] = [...sharedDatabases(listings)];
  // "Many": at least ten copies and a tenth of what was found.
  if (offOwner >= 10 && offOwner >= copies.length / 10 && causes.length === 0) {
    const other = otherRing(ring, copies);
    if (other) causes.push(other);
  }
  return causes;
}

/** Records off their owner it takes to name a short node list. */
const SHORT_LIST_MIN = 3;

/** Copies (sampled) that `r` puts where they were found. */
const fitOf = (r: Ring, of: readonly { id: string; url: string }[]) => of.reduce((n, c) => n + (r.ownerOf(c.id).url === c.url ? 1 : 0), 0);

/**
 * The ring in force without one node (or two, of four nodes or more) that fits the records
 * where the ring in force does not: the node list they were written with left those out.
 */
function shortNodeList(ring: Ring, copies: readonly { id: string; url: string }[]): LikelyCause | undefined {
  const step = Math.max(1, Math.floor(copies.length / SAMPLE));
  const sample = copies.filter((_, i) => i % step === 0);
  const inForce = fitOf(ring, sample);
  const names = ring.nodes.map((n) => n.name);
  const omissions: string[][] = names.length > 1 ? names.map((n) => [n]) : [];
  if (names.length >= 4 && names.length <= 8) {
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) omissions.push([names[i]!, names[j]!]);
  }
  // A record on its owner among the nodes left out fits too: written there before, with the whole list.
  const fitting = (candidate: Ring, left: readonly string[], of: readonly { id: string; url: string }[]) => {
    const leftUrls = new Set(left.map((name) => ring.node(name)!.url));
    return of.reduce((n, c) => n + (candidate.ownerOf(c.id).url === c.url || (leftUrls.has(c.url) && ring.ownerOf(c.id).url === c.url) ? 1 : 0), 0);
  };
  // ...and most of the copies off their owner must be where the short list puts them (not a few strays anywhere)
  const off = copies.filter((c) => ring.ownerOf(c.id).url !== c.url);
  let best: { ring: Ring; left: string[]; fit: number } | undefined;
  for (const left of omissions) {
    const candidate = new Ring(
      ring.nodes.filter((n) => !left.includes(n.name)),
      { vnodes: ring.vnodes },
    );
    const fit = fitting(candidate, left, sample);
    if (!best || fit > best.fit) best = { ring: candidate, left, fit };
  }
  if (!best || best.fit < CONVINCING * sample.length || best.fit <= inForce) return undefined;
  if (fitOf(best.ring, off) < CONVINCING * off.length) return undefined;
  return {
    kind: "short-node-list",
    left: best.left,
    nodes: formatNodeList(best.ring.nodes),
    fit: fitting(best.ring, best.left, copies),
    of: copies.length,
    fitInForce: fitOf(ring, copies),
  };
}

function* sharedDatabases(listings: ReadonlyMap<string, readonly string[]>): Generator<LikelyCause> {
  const entries = [...listings].filter(([, ids]) => ids.length > 0);
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a, idsA] = entries[i]!;
      const [b, idsB] = entries[j]!;
      // Listings come in id order, so equal sets are equal arrays.
      if (idsA.length === idsB.length && idsA.every((id, k) => id === idsB[k])) {
        yield { kind: "shared-database", nodes: [a, b], records: idsA.length };
      }
    }
  }
}

function otherRing(ring: Ring, copies: readonly { id: string; url: string }[]): LikelyCause | undefined {
  const step = Math.max(1, Math.floor(copies.length / SAMPLE));
  const sample = copies.filter((_, i) => i % step === 0);
  const inForce = fitOf(ring, sample);
  let best: { ring: Ring; fit: number } | undefined;
  for (const nodes of namings(ring.nodes)) {
    // the default and the ring's own first: of rings that fit equally (a small sample may fit
    // 150 and 160 alike), the likelier one is named
    for (const vnodes of new Set([DEFAULT_VNODES, ring.vnodes, ...COMMON_VNODES])) {
      let candidate: Ring;
      try {
        candidate = new Ring(nodes, { vnodes });
      } catch (e) {
        if (e instanceof RingError) continue; // colliding points: not a ring anyone ran
        throw e;
      }
      if (candidate.fingerprint === ring.fingerprint) continue;
      const fit = fitOf(candidate, sample);
      if (!best || fit > best.fit) best = { ring: candidate, fit };
    }
  }
  if (!best || best.fit < CONVINCING * sample.length || best.fit <= inForce) return undefined;
  return {
    kind: "other-ring",
    nodes: formatNodeList(best.ring.nodes),
    vnodes: best.ring.vnodes,
    fit: fitOf(best.ring, copies),
    of: copies.length,
    fitInForce: fitOf(ring, copies),
  };
}

/**
 * The node lists tried, all at the same addresses and weights: the names given, the
 * addresses as names (the default), 1..n in order (the names demo gives), every other
 * assignment of the given names to the addresses (up to 4 nodes), and all of these at
 * weight 1.
 */
function namings(nodes: readonly Node[]): Node[][] {
  const given = nodes.map((n) => n.name);
  const lists: string[][] = [given, nodes.map((n) => formatAddress(n)), nodes.map((_, i) => String(i + 1))];
  if (nodes.length <= 4) lists.push(...permutations(given).slice(1));
  const seen = new Set<string>();
  const out: Node[][] = [];
  for (const names of lists) {
    for (const unweighted of [false, true]) {
      const list = nodes.map((n, i) => ({ ...n, name: names[i]!, weight: unweighted ? 1 : n.weight }));
      const key = JSON.stringify(list.map((n) => [n.name, n.weight]));
      if (new Set(names).size === names.length && !seen.has(key)) {
        seen.add(key);
        out.push(list);
      }
    }
  }
  return out;
}

function formatAddress(n: Node): string {
  const { host, port } = nodeAddress(n);
  return `${host}:${port}`;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
