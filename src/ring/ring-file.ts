/**
 * A ring file: the node list and vnode count in one JSON document, for clusters too
 * large or too permanent for a --nodes flag.
 *
 *   {
 *     "vnodes": 160,
 *     "nodes": [
 *       "a=127.0.0.1:5001",
 *       { "name": "b", "host": "127.0.0.1", "port": 5002, "weight": 2 }
 *     ]
 *   }
 *
 * `nodes` is required and non-empty; each entry is a `[name=]host:port[:weight]`
 * string (as in --nodes) or an object with `host` and `port` and optional `name`
 * (default `host:port`) and `weight` (default 1). `vnodes` is optional. Unknown keys
 * are errors, so that a typo such as "wieght" does not silently change placement.
 */
import { MAX_VNODES } from "./hash-ring.ts";
import { assertDistinct, NodeListError, nodeSpec, parseNodeSpec, parsePort, type NodeSpec } from "./nodes.ts";

export interface RingFile {
  readonly vnodes?: number;
  readonly nodes: NodeSpec[];
}

const FILE_KEYS = ["vnodes", "nodes"];
const NODE_KEYS = ["name", "host", "port", "weight"];

/** Parses and checks the text of a ring file; throws NodeListError saying where and what. */
export function parseRingFile(text: string): RingFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NodeListError(`not valid JSON (${(e as Error).message})`);
  }
  const top = object(doc, "the file", FILE_KEYS);

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
  return vnodes === undefined ? { nodes } : { vnodes, nodes };
}

function fileNode(entry: unknown, where: string): NodeSpec {
  if (typeof entry === "string") {
    try {
      return parseNodeSpec(entry);
    } catch (e) {
      throw new NodeListError(`${where}: ${(e as Error).message}`);
    }
  }
  const o = object(entry, where, NODE_KEYS);
  if (o.name !== undefined && typeof o.name !== "string") throw new NodeListError(`${where}: "name" must be a string`);
  if (typeof o.host !== "string") throw new NodeListError(`${where}: "host" is required and must be a string`);
  if (typeof o.port !== "number" && typeof o.port !== "string") {
    throw new NodeListError(`${where}: "port" is required and must be a number from 1 to 65535`);
  }
  if (o.weight !== undefined && typeof o.weight !== "number") {
    throw new NodeListError(`${where}: "weight" must be a number greater than 0, got ${JSON.stringify(o.weight)}`);
  }
  const port = parsePort(String(o.port), `${where}: port`);
  return nodeSpec({ name: o.name, host: o.host, port, weight: o.weight }, where);
}

function object(value: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new NodeListError(`${where} must be a JSON object with ${keys.map((k) => `"${k}"`).join(", ")}`);
  }
  const unknown = Object.keys(value).filter((k) => !keys.includes(k));
  if (unknown.length > 0) {
    throw new NodeListError(
      `${where}: unknown key ${unknown.map((k) => `"${k}"`).join(", ")}; expected ${keys.map((k) => `"${k}"`).join(", ")}`,
    );
  }
  return value as Record<string, unknown>;
}
