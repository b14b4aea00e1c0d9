/**
 * Which ring is in force for a command or an instance, from its flags and environment.
 * Each setting comes from the first source that has it:
 *
 *   nodes:  --nodes, then the ring file, then SHARDCTL_NODES, then the default nodes
 *           127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003 (DEFAULT_NODES)
 *   vnodes: --vnodes, then the ring file, then SHARDCTL_VNODES, then 160
 *   epoch:  the ring file's (default 0); a flag that overrides the file's nodes or
 *           vnodes makes another ring, so it has epoch 0 like any ring of flags
 *
 * where the ring file is --ring, else SHARDCTL_RING. Every error is a UsageError that
 * names the source that was wrong.
 */
import { readFileSync } from "node:fs";
import { errorMessage, UsageError } from "../errors.ts";
import { DEFAULT_VNODES, MAX_VNODES, RingError } from "../ring/hash-ring.ts";
import { DEFAULT_NODES, NodeListError, parseNodeList, type Node } from "../ring/node.ts";
import { parseRingFile, ringOf, type RingFile } from "../ring/ring-file.ts";
import { Ring } from "../ring/ring.ts";

/** The ring options of the command line (see src/commands/_args.ts ringArgs). */
export interface RingFlags {
  readonly nodes?: string;
  readonly vnodes?: string;
  readonly ring?: string;
}

export interface RingInForce {
  readonly ring: Ring;
  /** Where the nodes came from, for messages: `--nodes`, `--ring FILE`, `SHARDCTL_NODES`, `the default nodes`. */
  readonly source: string;
  /** True when no flag, file or variable named the ring: the default nodes (DEFAULT_NODES) with 160 vnodes. */
  readonly isDefault: boolean;
}

export function ringInForce(flags: RingFlags, env: Record<string, string | undefined> = process.env): RingInForce {
  const file =
    flags.ring !== undefined
      ? readRingFile(flags.ring, `--ring ${flags.ring}`)
      : env.SHARDCTL_RING !== undefined
        ? readRingFile(env.SHARDCTL_RING, `SHARDCTL_RING=${env.SHARDCTL_RING}`)
        : undefined;

  const vnodes =
    flags.vnodes !== undefined
      ? parseVnodes(flags.vnodes, "--vnodes ")
      : (file?.vnodes ?? (env.SHARDCTL_VNODES !== undefined ? parseVnodes(env.SHARDCTL_VNODES, "SHARDCTL_VNODES: ") : DEFAULT_VNODES));

  const [source, list]: [string, string | readonly Node[]] =
    flags.nodes !== undefined
      ? ["--nodes", flags.nodes]
      : file
        ? [file.source, file.nodes]
        : env.SHARDCTL_NODES !== undefined
          ? ["SHARDCTL_NODES", env.SHARDCTL_NODES]
          : ["the default nodes", DEFAULT_NODES];
  const fileDecides = file !== undefined && flags.nodes === undefined && flags.vnodes === undefined;
  try {
    const nodes = typeof list === "string" ? parseNodeList(list) : list;
    const ring = new Ring(nodes, { vnodes, epoch: fileDecides ? (file.epoch ?? 0) : 0 });
    const isDefault =
      file === undefined && flags.nodes === undefined && flags.vnodes === undefined && env.SHARDCTL_NODES === undefined && env.SHARDCTL_VNODES === undefined;
    return { ring, source, isDefault };
  } catch (e) {
    if (e instanceof NodeListError || e instanceof RingError) throw new UsageError(`${source}: ${e.message}`);
    throw e;
  }
}

/** `prefix` leads the message: `--vnodes must be ...` or `SHARDCTL_VNODES: must be ...`. */
function parseVnodes(text: string, prefix: string): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw new UsageError(`${prefix}must be an integer from 1 to ${MAX_VNODES}, got "${text}"`);
  const n = Number(t);
  if (n < 1 || n > MAX_VNODES) throw new UsageError(`${prefix}must be from 1 to ${MAX_VNODES}, got ${n}`);
  return n;
}

/** A ring file, read and checked; `source` says where its path came from, for messages (UsageError naming it). */
export function readRingFile(path: string, source: string): RingFile & { source: string } {
  if (path.trim() === "") throw new UsageError(`${source}: the ring file path is empty`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`${source}: cannot read the ring file (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`);
  }
  try {
    return { ...parseRingFile(text), source };
  } catch (e) {
    if (e instanceof NodeListError) throw new UsageError(`${source}: ${e.message}`);
    throw e;
  }
}

/** The ring of a ring file (its vnodes, else 160; its epoch, else 0); UsageError naming `source` when it is not one. */
export function ringOfFile(path: string, source: string): Ring {
  const file = readRingFile(path, source);
  try {
    return ringOf(file);
  } catch (e) {
    if (e instanceof RingError) throw new UsageError(`${source}: ${e.message}`);
    throw e;
  }
}
