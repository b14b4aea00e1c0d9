/**
 * `--db` values: `mysql://user:pass@host:port/database[?pool=N&timeout=MS&queue=N]`, `sqlite:<path>`,
 * `sqlite::memory:`. A MySQL URL may name several servers, `host1:port1,host2:port2,...`: the
 * members of one Galera cluster (mysql/galera.ts). Parsing is separate from opening so that a
 * malformed value is a usage error (exit 2) while an unreachable database is a job failure (exit 1).
 */
import { resolve } from "node:path";
import { StoreUrlError } from "./types.ts";

export type StoreTarget =
  | { dialect: "sqlite"; path: string }
  | {
      dialect: "mysql";
      /**
       * The servers, in the URL's order: one for a plain server; several for the members of a
       * Galera cluster, the order being the order of preference (mysql/galera.ts).
       */
      members: readonly DatabaseServer[];
      user: string;
      password: string;
      database: string;
      poolSize: number;
      /** Time one store operation may take before it is answered 503. */
      timeoutMs: number;
      /** Operations that may wait for a pool connection; more are answered 503 at once. */
      queueLimit: number;
    };

/** One database server of a URL. */
export interface DatabaseServer {
  readonly host: string;
  readonly port: number;
}

/** `host:port` of a server, as logs and GET /status name a Galera member (an IPv6 host in brackets). */
export const serverAddress = (s: DatabaseServer) => `${s.host.includes(":") ? `[${s.host}]` : s.host}:${s.port}`;

export const DEFAULT_POOL = 16;
export const DEFAULT_MYSQL_PORT = 3306;
/** More members than a Galera cluster of one shard sensibly has is a typo, not a cluster. */
const MAX_MEMBERS = 9;
export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_QUEUE = 1000;

/** The `?name=value` parameters of a mysql URL: default, smallest and largest value. */
const MYSQL_PARAMS = {
  pool: { fallback: DEFAULT_POOL, min: 1, max: 999, what: "connections in the pool" },
  timeout: { fallback: DEFAULT_TIMEOUT_MS, min: 100, max: 600_000, what: "milliseconds a database operation may take" },
  queue: { fallback: DEFAULT_QUEUE, min: 1, max: 100_000, what: "operations that may wait for a connection" },
} as const;
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
    const { first, members } = serverList(url, source);
    let u: URL;
    try {
      u = new URL(first);
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
      throw new StoreUrlError(`${source} "${redact(url)}": the database name must be 1 to 64 letters, digits, _, $ or -, got "${database}"`);
    }
    const accepted = Object.keys(MYSQL_PARAMS).join(", ");
    for (const key of u.searchParams.keys()) {
      if (!Object.hasOwn(MYSQL_PARAMS, key)) throw new StoreUrlError(`${source} "${redact(url)}": unknown parameter "${key}" (accepted: ${accepted})`);
    }
    const param = (key: keyof typeof MYSQL_PARAMS) => {
      const { fallback, min, max, what } = MYSQL_PARAMS[key];
      const text = u.searchParams.get(key);
      if (text === null) return fallback;
      if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
        throw new StoreUrlError(`${source} "${redact(url)}": ${key} (${what}) must be an integer from ${min} to ${max}, got "${text}"`);
      }
      return Number(text);
    };
    return {
      dialect: "mysql",
      members: members ?? [{ host: u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1", port: u.port === "" ? DEFAULT_MYSQL_PORT : Number(u.port) }],
      user: decode(u.username, "user") || "root",
      password: decode(u.password, "password"),
      database,
      poolSize: param("pool"),
      timeoutMs: param("timeout"),
      queueLimit: param("queue"),
    };
  }
  throw new StoreUrlError(`${source} "${redact(url)}" is not a known database URL; expected ${ACCEPTED}`);
}

/**
 * A URL's servers when it names several (`host1:port1,host2:port2`), each checked alone; `first`
 * is the URL with only the first of them, for the URL parser (which takes one host). A URL with
 * one server is returned as it is, with no `members`: parsed as it always was.
 */
function serverList(url: string, source: string): { first: string; members?: DatabaseServer[] } {
  const start = "mysql://".length;
  const authority = url.slice(start).split(/[/?#]/, 1)[0]!;
  const hostsAt = start + authority.lastIndexOf("@") + 1;
  const list = url.slice(hostsAt, start + authority.length);
  if (!list.includes(",")) return { first: url };
  const members = list.split(",").map((text, i): DatabaseServer => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(text);
    const port = m?.[2] === undefined ? DEFAULT_MYSQL_PORT : Number(m[2]);
    if (!m || port < 1 || port > 65535) {
      throw new StoreUrlError(
        `${source} "${redact(url)}": member ${i + 1} of the server list, "${text}", is not host:port ` +
          "(a Galera cluster's members are listed as host1:port1,host2:port2,...)",
      );
    }
    return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
  });
  if (members.length > MAX_MEMBERS)
    throw new StoreUrlError(`${source} "${redact(url)}": ${members.length} servers; a shard's Galera cluster has at most ${MAX_MEMBERS}`);
  const seen = new Set<string>();
  for (const m of members) {
    const address = serverAddress(m);
    if (seen.has(address)) throw new StoreUrlError(`${source} "${redact(url)}": the server ${address} is listed twice`);
    seen.add(address);
  }
  return { first: url.slice(0, hostsAt) + list.split(",")[0] + url.slice(start + authority.length), members };
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

/**
 * The database as a start-up line shows it: the password hidden, the port a MySQL URL
 * left out (so "which server?" has an answer), a SQLite path made absolute (so starting
 * from another directory is not a silent new, empty database).
 */
export function describeStoreUrl(url: string): string {
  const target = parseStoreUrl(url);
  if (target.dialect === "sqlite") return target.path === ":memory:" ? url : `sqlite:${resolve(target.path)}`;
  const shown = redact(url);
  if (target.members.length > 1) return `${shown} (a Galera cluster of ${target.members.length} members: ${target.members.map(serverAddress).join(", ")})`;
  if (new URL(url).port !== "") return shown;
  return `${shown} (port ${target.members[0]!.port}, the default: the URL names none)`;
}
