/**
 * Argument groups shared by several commands, and the one place where strings from
 * the command line become numbers, id lists and rings. Every parser here throws
 * UsageError (exit 2) with the offending value and what would be accepted.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import { canonicalId, MAX_ID } from "../expenses/id.ts";
import { readFileSync } from "node:fs";
import { DEFAULT_VNODES, HashRing, MAX_VNODES, RingError } from "../ring/hash-ring.ts";
import { DEFAULT_NODES, NodeListError, parseNodeList, type NodeSpec } from "../ring/nodes.ts";
import { parseRingFile, type RingFile } from "../ring/ring-file.ts";

export const ringArgs = {
  nodes: {
    type: "string",
    valueHint: "LIST",
    description: `Comma-separated [name=]host:port[:weight]; env SHARDCTL_NODES (default: ${DEFAULT_NODES})`,
  },
  vnodes: {
    type: "string",
    valueHint: "K",
    description: `Virtual nodes per node of weight 1; env SHARDCTL_VNODES (default: ${DEFAULT_VNODES})`,
  },
  ring: {
    type: "string",
    valueHint: "FILE",
    description:
      'JSON ring file {"vnodes": K, "nodes": [...]}; env SHARDCTL_RING. --nodes/--vnodes win over it, it wins over SHARDCTL_NODES/SHARDCTL_VNODES',
  },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Machine-readable JSON on stdout" },
} as const satisfies ArgsDef;

export const idsArg = {
  ids: {
    type: "string",
    valueHint: "A..B|a,b,c",
    description: "Expense ids: an inclusive range A..B, a comma list, or both (default: 1..10)",
  },
} as const satisfies ArgsDef;

/** Largest id list a command accepts, so a typo like 1..1e15 fails fast instead of eating memory. */
export const MAX_IDS = 10_000_000;

/** An integer option within [min, max]; `undefined` when absent. */
export function intOption(
  value: string | undefined,
  flag: string,
  { min, max }: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/** `1..10`, `1,2,7`, `1..3,9` -> canonical ids in the given order, without repeats. */
export function parseIds(text: string | undefined): string[] {
  const spec = (text ?? "1..10").trim();
  if (spec === "") throw new UsageError(`--ids is empty; give a range like 1..10 or a list like 1,2,3`);
  const out = new Set<string>();
  for (const part of spec.split(",")) {
    const item = part.trim();
    if (item === "") throw new UsageError(`--ids "${spec}" has an empty item between commas`);
    const range = /^(\S+)\.\.(\S+)$/.exec(item);
    if (range) {
      const [lo, hi] = [idOf(range[1]!, item), idOf(range[2]!, item)].map(Number) as [number, number];
      if (hi < lo) throw new UsageError(`--ids range "${item}" is empty: ${hi} is below ${lo}`);
      if (hi - lo + 1 + out.size > MAX_IDS) throw new UsageError(`--ids "${item}" names more than ${MAX_IDS} ids`);
      for (let i = lo; i <= hi; i++) out.add(String(i));
    } else {
      out.add(idOf(item, item));
    }
  }
  return [...out];
}

function idOf(text: string, item: string): string {
  const r = canonicalId(text);
  if (!r.ok) {
    throw new UsageError(`--ids "${item}": an id must be a canonical integer from 0 to ${MAX_ID}, got "${text}"`);
  }
  return r.id;
}

export interface ResolvedRing {
  readonly ring: HashRing;
  readonly nodes: readonly NodeSpec[];
}

/**
 * The ring, each setting taken from the first source that has it: --nodes/--vnodes,
 * then the ring file (--ring, else SHARDCTL_RING), then SHARDCTL_NODES/SHARDCTL_VNODES,
 * then the defaults. Errors name the source that was wrong.
 */
export function resolveRing(
  args: { nodes?: string; vnodes?: string; ring?: string },
  env = process.env,
): ResolvedRing {
  const file =
    args.ring !== undefined
      ? readRingFile(args.ring, `--ring ${args.ring}`)
      : env.SHARDCTL_RING !== undefined
        ? readRingFile(env.SHARDCTL_RING, `SHARDCTL_RING=${env.SHARDCTL_RING}`)
        : undefined;

  let vnodes = DEFAULT_VNODES;
  if (args.vnodes !== undefined) vnodes = intOption(args.vnodes, "vnodes", { min: 1, max: MAX_VNODES })!;
  else if (file?.vnodes !== undefined) vnodes = file.vnodes;
  else if (env.SHARDCTL_VNODES !== undefined) {
    try {
      vnodes = intOption(env.SHARDCTL_VNODES, "vnodes", { min: 1, max: MAX_VNODES })!;
    } catch (e) {
      throw new UsageError(`SHARDCTL_VNODES: ${(e as Error).message.replace(/^--vnodes /, "")}`);
    }
  }

  const [source, list]: [string, string | readonly NodeSpec[]] =
    args.nodes !== undefined
      ? ["--nodes", args.nodes]
      : file
        ? [file.source, file.nodes]
        : env.SHARDCTL_NODES !== undefined
          ? ["SHARDCTL_NODES", env.SHARDCTL_NODES]
          : ["the default nodes", DEFAULT_NODES];
  try {
    const nodes = typeof list === "string" ? parseNodeList(list) : list;
    return { ring: new HashRing(nodes, { vnodes }), nodes };
  } catch (e) {
    if (e instanceof NodeListError || e instanceof RingError) throw new UsageError(`${source}: ${e.message}`);
    throw e;
  }
}

/** A ring file, read and checked; `source` says where its path came from, for messages. */
function readRingFile(path: string, source: string): RingFile & { source: string } {
  if (path.trim() === "") throw new UsageError(`${source}: the ring file path is empty`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`${source}: cannot read the ring file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return { ...parseRingFile(text), source };
  } catch (e) {
    if (e instanceof NodeListError) throw new UsageError(`${source}: ${e.message}`);
    throw e;
  }
}
