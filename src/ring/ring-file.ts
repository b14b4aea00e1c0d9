/**
 * A ring file: a versioned ring (epoch, vnodes, nodes) in one JSON document, for
 * clusters too large or too permanent for a --nodes flag, and for changing a
 * cluster's ring (a larger epoch replaces a smaller one).
 *
 *   {
 *     "epoch": 2,
 *     "vnodes": 160,
 *     "nodes": [
 *       "a=127.0.0.1:5001",
 *       { "name": "b", "host": "127.0.0.1", "port": 5002, "weight": 2 },
 *       { "name": "c", "url": "http://127.0.0.1:5003" }
 *     ]
 *   }
 *
 * `nodes` is required and non-empty; each entry is a `[name=]host:port[:weight]`
 * string (as in --nodes) or an object with `host` and `port`, or `url`
 * (`http://host:port`), and optional `name` (default `host:port`) and `weight`
 * (default 1). `epoch` (default 0) and `vnodes` are optional. `fingerprint` and
 * `label` are optional too; when present they must match the file's ring, so that
 * `GET /ring` saved to a file is a ring file, and an edit that forgets to change the
 * epoch is caught. `rebalance` (what GET /ring says of a rebalance) is ignored. Unknown
 * keys are errors, so that a typo such as "wieght" does not silently change placement.
 */
import { DEFAULT_VNODES, MAX_VNODES } from "./hash-ring.ts";
import { assertDistinct, makeNode, NodeListError, parseNode, parsePort, type Node } from "./node.ts";
import { fingerprintOf, Ring, ringLabel } from "./ring.ts";

export interface RingFile {
  readonly epoch?: number;
  readonly vnodes?: number;
  readonly nodes: Node[];
}

const FILE_KEYS = ["epoch", "vnodes", "nodes", "fingerprint", "label", "rebalance"];
const NODE_KEYS = ["name", "host", "port", "url", "weight"];

export interface RingFileOptions {
  /**
   * A ring that is to replace another (PUT /ring) must say its epoch: without one it
   * would be epoch 0, never newer than anything.
   */
  readonly requireEpoch?: boolean;
  /** The document in messages: "the file" (default), "the body". */
  readonly what?: string;
}

/** Parses and checks the text of a ring file; throws NodeListError saying where and what. */
export function parseRingFile(text: string, options: RingFileOptions = {}): RingFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NodeListError(`not valid JSON (${(e as Error).message})`);
  }
  return parseRingDocument(doc, options);
}

/** parseRingFile for a document already parsed from JSON (a request body). */
export function parseRingDocument(doc: unknown, { requireEpoch = false, what = "the file" }: RingFileOptions = {}): RingFile {
  const top = object(doc, what, FILE_KEYS);

  if (top.rebalance !== undefined && (typeof top.rebalance !== "object" || Array.isArray(top.rebalance))) {
    throw new NodeListError(`"rebalance" must be an object (GET /ring's account of a rebalance) or null, got ${JSON.stringify(top.rebalance)?.slice(0, 60)}`);
  }
  let epoch: number | undefined;
  if (top.epoch === undefined && requireEpoch) {
    throw new NodeListError(`"epoch" is required: a ring replaces another only with a larger epoch`);
  }
  if (top.epoch !== undefined) {
    epoch = top.epoch as number;
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      throw new NodeListError(`"epoch" must be a non-negative integer, got ${JSON.stringify(top.epoch)}`);
    }
  }
  let vnodes: number | undefined;
  if (top.vnodes !== undefined) {
    vnodes = top.vnodes as number;
    if (!Number.isInteger(vnodes) || vnodes < 1 || vnodes > MAX_VNODES) {
      throw new NodeListError(`"vnodes" must be an integer from 1 to ${MAX_VNODES}, got ${JSON.stringify(top.vnodes)}`);
    }
  }

  if (!Array.isArray(top.nodes) || top.nodes.length === 0) {
    throw new NodeListError(`"nodes" must be a non-empty array of "[name=]host:port[:weight]" strings or {host, port} objects`);
  }
  const nodes = top.nodes.map((entry, i) => fileNode(entry, `nodes[${i}]`));
  assertDistinct(nodes);

  if (top.fingerprint !== undefined || top.label !== undefined) {
    if (vnodes === undefined) throw new NodeListError(`a file with "fingerprint" or "label" must give "vnodes" too`);
    const fingerprint = fingerprintOf(vnodes, nodes);
    const label = ringLabel(epoch ?? 0, fingerprint);
    if (top.fingerprint !== undefined && top.fingerprint !== fingerprint) {
      throw new NodeListError(
        `"fingerprint" ${JSON.stringify(top.fingerprint)} does not match the file's nodes and vnodes (${fingerprint}): ` +
          `a ring that changed needs a new epoch; remove "fingerprint" and "label" after editing`,
      );
    }
    if (top.label !== undefined && top.label !== label) {
      throw new NodeListError(`"label" ${JSON.stringify(top.label)} does not match the file's ring (${label}); remove it after editing`);
    }
  }
  return { ...(epoch === undefined ? {} : { epoch }), ...(vnodes === undefined ? {} : { vnodes }), nodes };
}

function fileNode(entry: unknown, where: string): Node {
  if (typeof entry === "string") {
    try {
      return parseNode(entry);
    } catch (e) {
      throw new NodeListError(`${where}: ${(e as Error).message}`);
    }
  }
  const o = object(entry, where, NODE_KEYS);
  if (o.name !== undefined && typeof o.name !== "string") throw new NodeListError(`${where}: "name" must be a string`);
  if (o.weight !== undefined && typeof o.weight !== "number") {
    throw new NodeListError(`${where}: "weight" must be a number greater than 0, got ${JSON.stringify(o.weight)}`);
  }
  if (o.url !== undefined) {
    if (o.host !== undefined || o.port !== undefined) throw new NodeListError(`${where}: give "url" or "host" and "port", not both`);
    const m = typeof o.url === "string" ? /^http:\/\/(\[[^\]]*\]|[^:/]*):([^/]*)\/?$/.exec(o.url) : null;
    if (!m) throw new NodeListError(`${where}: "url" must be http://host:port, got ${JSON.stringify(o.url)}`);
    return makeNode({ name: o.name, host: m[1]!, port: parsePort(m[2]!, `${where}: port`), weight: o.weight }, where);
  }
  if (typeof o.host !== "string") throw new NodeListError(`${where}: "host" is required and must be a string`);
  if (typeof o.port !== "number" && typeof o.port !== "string") {
    throw new NodeListError(`${where}: "port" is required and must be a number from 1 to 65535`);
  }
  const port = parsePort(String(o.port), `${where}: port`);
  return makeNode({ name: o.name, host: o.host, port, weight: o.weight }, where);
}

function object(value: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new NodeListError(`${where} must be a JSON object with ${keys.map((k) => `"${k}"`).join(", ")}`);
  }
  const unknown = Object.keys(value).filter((k) => !keys.includes(k));
  if (unknown.length > 0) {
    throw new NodeListError(`${where}: unknown key ${unknown.map((k) => `"${k}"`).join(", ")}; expected ${keys.map((k) => `"${k}"`).join(", ")}`);
  }
  return value as Record<string, unknown>;
}

/** The body of GET /ring: a ring file (Ring.toJSON() and its label), so that it can be saved and used as one. */
export function ringDocument(ring: Ring) {
  const { nodes, ...rest } = ring.toJSON();
  return { ...rest, nodes: [...nodes], label: ring.label };
}

/**
 * The Ring a ring file describes: its vnodes (default 160) and its epoch (default 0).
 * Throws RingError when its nodes cannot form a ring (colliding points).
 */
export function ringOf(file: RingFile): Ring {
  return new Ring(file.nodes, { vnodes: file.vnodes ?? DEFAULT_VNODES, epoch: file.epoch ?? 0 });
}

/**
 * The Ring of a ring document already parsed from JSON (a request body, GET /ring's answer,
 * a rebalance record): parseRingDocument, then ringOf. Throws NodeListError or RingError.
 */
export function ringOfDocument(doc: unknown, options: RingFileOptions = {}): Ring {
  return ringOf(parseRingDocument(doc, options));
}
