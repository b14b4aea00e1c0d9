/**
 * The one place where option strings become numbers and id lists (citty has no
 * number type). Every parser throws UsageError (exit 2) with the offending value and
 * what would be accepted.
 */
import { UsageError } from "../errors.ts";
import { canonicalId, MAX_ID } from "../expenses/id.ts";
import { LOG_FORMATS, type LogFormat } from "../http/request-log.ts";

/** Largest id list a command accepts, so a typo like 1..1e15 fails fast instead of eating memory. */
export const MAX_IDS = 10_000_000;

/**
 * An integer option within [min, max]; `undefined` when absent. `flag` is the option's
 * name (`port` is shown as `--port`) or an environment variable (`SHARDCTL_PORT`, shown as is).
 */
export function intOption(value: string | undefined, flag: string, { min, max }: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  const label = /^[A-Z][A-Z0-9_]*$/.test(flag) ? flag : `--${flag}`;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${label} must be an integer from ${min} to ${max}, got "${value}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${label} must be from ${min} to ${max}, got ${n}`);
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

/** A flag, else its environment variable: the value and where it came from, for messages. */
export function flagOrEnv(flag: string | undefined, name: string, variable: string): { value: string; source: string } | undefined {
  if (flag !== undefined) return { value: flag, source: `--${name}` };
  const env = process.env[variable];
  return env === undefined ? undefined : { value: env, source: variable };
}

/** --log-format / SHARDCTL_LOG_FORMAT: text or json (exit 2 for anything else). */
export function logFormatOption(option: { value: string; source: string } | undefined): LogFormat {
  if (option === undefined) return "text";
  if ((LOG_FORMATS as readonly string[]).includes(option.value)) return option.value as LogFormat;
  throw new UsageError(`${option.source} "${option.value}": give ${LOG_FORMATS.join(" or ")}`);
}
