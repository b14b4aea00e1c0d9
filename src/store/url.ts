/**
 * `--db` values: `mysql://user:pass@host:port/database[?pool=N]`, `sqlite:<path>`,
 * `sqlite::memory:`. Parsing is separate from opening so that a malformed value is a
 * usage error (exit 2) while an unreachable database is a job failure (exit 1).
 */
import { StoreUrlError } from "./types.ts";

export type StoreTarget =
  | { dialect: "sqlite"; path: string }
  | {
      dialect: "mysql";
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      poolSize: number;
    };

export const DEFAULT_POOL = 16;
const ACCEPTED = "mysql://user:pass@host:port/database or sqlite:<path>";

/**
 * `source` names where the value came from in messages: `--db` (the default) or the
 * environment variable, so that a bad SHARDCTL_DB is not blamed on a --db never given.
 */
export function parseStoreUrl(url: string, source = "--db"): StoreTarget {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\//, "");
    if (path === "") throw new StoreUrlError(`${source} "${url}" has no path; expected ${ACCEPTED}`);
    return { dialect: "sqlite", path };
  }
  if (url.startsWith("mysql://")) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new StoreUrlError(`${source} "${redact(url)}" is not a URL; expected ${ACCEPTED}`);
    }
    const decode = (part: string, what: string) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new StoreUrlError(`${source} "${redact(url)}": the ${what} has a malformed %-escape (write a literal % as %25)`);
      }
    };
    const database = decode(u.pathname.replace(/^\//, ""), "database name");
    if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) {
      throw new StoreUrlError(
        `${source} "${redact(url)}": the database name must be 1 to 64 letters, digits, _, $ or -, got "${database}"`,
      );
    }
    for (const key of u.searchParams.keys()) {
      if (key !== "pool") throw new StoreUrlError(`${source} "${redact(url)}": unknown parameter "${key}" (accepted: pool)`);
    }
    const pool = u.searchParams.get("pool") ?? String(DEFAULT_POOL);
    if (!/^\d{1,3}$/.test(pool) || Number(pool) < 1) {
      throw new StoreUrlError(`${source} "${redact(url)}": pool must be an integer from 1 to 999, got "${pool}"`);
    }
    return {
      dialect: "mysql",
      host: u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1",
      port: u.port === "" ? 3306 : Number(u.port),
      user: decode(u.username, "user") || "root",
      password: decode(u.password, "password"),
      database,
      poolSize: Number(pool),
    };
  }
  throw new StoreUrlError(`${source} "${redact(url)}" is not a known database URL; expected ${ACCEPTED}`);
}

/**
 * The URL with its password replaced, for messages and logs. The credentials are
 * everything between `//` and the LAST `@` (a password may hold `@`, `/` or `:` unescaped,
 * and the host never holds `@`); the user before the first `:` stays when it is plainly
 * one (no `@` or `/` in it), so the message still says who logged in.
 */
export function redact(url: string): string {
  const start = url.indexOf("//");
  const at = url.lastIndexOf("@");
  if (start === -1 || at < start) return url;
  const credentials = url.slice(start + 2, at);
  const colon = credentials.indexOf(":");
  const user = colon === -1 ? credentials : credentials.slice(0, colon);
  if (colon === -1 && !/[/?#]/.test(user)) return url;
  const shown = /^[^@/?#]*$/.test(user) && colon !== -1 ? `${user}:***` : "***";
  return `${url.slice(0, start + 2)}${shown}${url.slice(at)}`;
}
