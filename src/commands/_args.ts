/**
 * Argument groups shared by several commands, spread into their `args`. What the
 * values mean is decided elsewhere: numbers and id lists in _parse.ts, the ring in
 * force in src/commands/_ring.ts.
 */
import type { ArgsDef } from "citty";
import { DEFAULT_VNODES } from "../ring/hash-ring.ts";
import { DEFAULT_NODES } from "../ring/node.ts";

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
      'JSON ring file {"epoch": N, "vnodes": K, "nodes": [...]}; env SHARDCTL_RING. --nodes/--vnodes win over it, it wins over SHARDCTL_NODES/SHARDCTL_VNODES',
  },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Machine-readable JSON on stdout" },
} as const satisfies ArgsDef;

export const wideArg = {
  wide: { type: "boolean", description: "Every column in full (else tables fit the terminal, 80 columns off one: messages cut with …, details left out)" },
} as const satisfies ArgsDef;

export const idsArg = {
  ids: {
    type: "string",
    valueHint: "A..B|a,b,c",
    description: "Expense ids: an inclusive range A..B, a comma list, or both (default: 1..10)",
  },
} as const satisfies ArgsDef;
