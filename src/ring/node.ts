/**
 * The one node type of the program, and the `--nodes` syntax that names nodes:
 * a comma-separated list of `[name=]host:port[:weight]`.
 */

/** A member of the cluster. Only `name` and `weight` take part in placement. */
export interface Node {
  /** Placement identity: a node moved to a new address keeps its name, so moves no data. */
  readonly name: string;
  /** Where the node answers: `http://host:port`. Not hashed. */
  readonly url: string;
  /** Relative capacity: the node gets round(vnodes * weight) points. */
  readonly weight: number;
}

/** The nodes when nothing names them: three instances on the loopback, each named by its address. */
export const DEFAULT_NODES = "127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003";

export class NodeListError extends Error {
  override readonly name = "NodeListError";
}

const PORT_MAX = 65535;

/** A host name, IPv4 address or bracketed IPv6 address: no colon, slash or space outside brackets. */
const HOST = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/=,]+)$/;

/** `8080` -> 8080; anything else (0, 65536, "80x", "") throws with the value. */
export function parsePort(text: string, what = "port"): number {
  if (!/^\d{1,5}$/.test(text)) throw new NodeListError(`${what} "${text}" is not a number from 1 to ${PORT_MAX}`);
  const port = Number(text);
  if (port < 1 || port > PORT_MAX) throw new NodeListError(`${what} ${port} is out of range 1..${PORT_MAX}`);
  return port;
}

/**
 * The characters a node name may hold: it travels in the X-Shard-Node header, in ring
 * files and in --nodes, so ASCII letters, digits and `.` `-` `_` `:`, plus `[` `]` for the
 * default name of an IPv6 address (`[::1]:5001`).
 */
const NAME_CHAR = /^[A-Za-z0-9._:[\]-]$/;
export const NAME_CHARS = "letters, digits and . - _ : [ ]";

/** The problem with `name` as a node name, or undefined when it is a good one. */
export function nodeNameProblem(name: string): string | undefined {
  if (name === "") return "the node name is empty";
  for (const c of name) {
    if (!NAME_CHAR.test(c)) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
      return `the node name ${JSON.stringify(name)} holds the character ${JSON.stringify(c)} (${code}); a name may hold only ${NAME_CHARS}`;
    }
  }
  return undefined;
}

/**
 * A node from its parts, each checked; `where` names the entry in messages.
 * The name defaults to `host:port`; the url is `http://host:port`.
 */
export function makeNode(parts: { name?: string; host: string; port: number; weight?: number }, where: string): Node {
  const { name, host, port, weight = 1 } = parts;
  if (name !== undefined && name.trim() === "") throw new NodeListError(`${where}: the node name is empty`);
  if (!HOST.test(host)) {
    throw new NodeListError(`${where}: host "${host}" is not a host name or address (IPv6 goes in brackets: [::1])`);
  }
  if (!(Number.isFinite(weight) && weight > 0)) {
    throw new NodeListError(`${where}: weight must be a number greater than 0, got ${weight}`);
  }
  const nodeName = name ?? `${host}:${port}`;
  const problem = nodeNameProblem(nodeName);
  if (problem) throw new NodeListError(`${where}: ${problem}`);
  return { name: nodeName, url: `http://${host}:${port}`, weight };
}

/** The `host` and `port` of a node's url (always `http://host:port`, as makeNode writes it). */
export function nodeAddress(node: Pick<Node, "url">): { host: string; port: number } {
  const m = /^http:\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(node.url);
  if (!m) throw new NodeListError(`node url "${node.url}" is not http://host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * One `[name=]host:port[:weight]` entry. IPv6 hosts go in brackets: `[::1]:5001`.
 * The name defaults to `host:port`.
 */
export function parseNode(entry: string): Node {
  const text = entry.trim();
  if (text === "") throw new NodeListError("empty entry in the node list");
  const eq = text.indexOf("=");
  const name = eq >= 0 ? text.slice(0, eq).trim() : undefined;
  const address = eq >= 0 ? text.slice(eq + 1).trim() : text;
  if (name === "") throw new NodeListError(`"${entry}": the name before "=" is empty`);

  if (address.includes("://")) throw new NodeListError(`"${entry}" is a URL; give host:port, e.g. 127.0.0.1:5001`);
  const m = /^(\[[^\]]*\]|[^:]*):([^:]*)(?::([^:]*))?$/.exec(address);
  if (!m) {
    throw new NodeListError(`"${entry}" is not [name=]host:port[:weight] (e.g. a=127.0.0.1:5001 or 127.0.0.1:5002:2)`);
  }
  const port = parsePort(m[2]!, `"${entry}": port`);
  let weight = 1;
  if (m[3] !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(m[3])) {
      throw new NodeListError(`"${entry}": weight "${m[3]}" is not a number greater than 0`);
    }
    weight = Number(m[3]);
  }
  return makeNode({ name, host: m[1]!, port, weight }, `"${entry}"`);
}

/** A comma-separated node list; rejects empty lists, duplicate names and duplicate addresses. */
export function parseNodeList(text: string): Node[] {
  const entries = text.split(",").filter((e) => e.trim() !== "");
  if (entries.length === 0) throw new NodeListError("the node list is empty; give at least one host:port");
  const nodes = entries.map(parseNode);
  assertDistinct(nodes);
  return nodes;
}

/** Throws on two nodes with one name, or with one address (host compared without case). */
export function assertDistinct(nodes: readonly Node[]): void {
  const names = new Map<string, Node>();
  const addresses = new Map<string, Node>();
  for (const n of nodes) {
    if (names.has(n.name)) throw new NodeListError(`duplicate node name "${n.name}"`);
    names.set(n.name, n);
    const addr = n.url.slice("http://".length).toLowerCase();
    const other = addresses.get(addr);
    if (other) throw new NodeListError(`nodes "${other.name}" and "${n.name}" have the same address ${addr}`);
    addresses.set(addr, n);
  }
}

/** `name=host:port[:weight]` back, for messages and files: what parseNode reads as the same node. */
export function formatNode(n: Node): string {
  const addr = n.url.slice("http://".length);
  return `${n.name === addr ? "" : `${n.name}=`}${addr}${n.weight === 1 ? "" : `:${n.weight}`}`;
}

/** The node list as `--nodes` takes it. */
export function formatNodeList(nodes: readonly Node[]): string {
  return nodes.map(formatNode).join(",");
}
