/**
 * The records a run sends: the seed data for `--ids`, or the user's own from
 * `--data FILE` (a JSON array, or NDJSON: one record per line).
 */
import { readFile } from "node:fs/promises";
import { canonicalId } from "../expenses/id.ts";
import type { ExpenseCreate } from "../expenses/model.ts";
import { seedRecord } from "../expenses/seed-data.ts";

export class DataFileError extends Error {
  override readonly name = "DataFileError";
}

export function recordsForIds(ids: readonly string[]): ExpenseCreate[] {
  return ids.map(seedRecord);
}

/** Parses JSON-array or NDJSON text; every record needs a canonical id, and ids must be distinct. */
export function parseRecords(text: string, source: string): ExpenseCreate[] {
  const trimmed = text.trim();
  if (trimmed === "") throw new DataFileError(`${source}: no records (the file is empty)`);
  let items: { value: unknown; where: string }[];
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new DataFileError(`${source}: not valid JSON: ${(e as Error).message}`);
    }
    items = (parsed as unknown[]).map((value, i) => ({ value, where: `${source}: record ${i + 1}` }));
  } else {
    items = [];
    const lines = text.split("\n");
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "") continue;
      const where = `${source}:${i + 1}`;
      try {
        items.push({ value: JSON.parse(line), where });
      } catch (e) {
        throw new DataFileError(`${where}: not a JSON record (NDJSON wants one object per line): ${(e as Error).message}`);
      }
    }
  }
  if (items.length === 0) throw new DataFileError(`${source}: no records`);

  const seen = new Map<string, string>();
  return items.map(({ value, where }) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new DataFileError(`${where}: a record must be a JSON object, got ${JSON.stringify(value)?.slice(0, 60)}`);
    }
    const record = value as Record<string, unknown>;
    const id = canonicalId(record.id);
    if (!id.ok) throw new DataFileError(`${where}: "id" ${id.problem}`);
    const first = seen.get(id.id);
    if (first) throw new DataFileError(`${where}: id ${id.id} repeats ${first}`);
    seen.set(id.id, where);
    return { ...record, id: id.id } as ExpenseCreate;
  });
}

export async function readRecordsFile(path: string): Promise<ExpenseCreate[]> {
  const text = path === "-" ? await Bun.stdin.text() : await readText(path);
  return parseRecords(text, path === "-" ? "stdin" : path);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a file" : `cannot read it (${code ?? (e as Error).message})`;
    throw new DataFileError(`${path}: ${why}`);
  }
}
