/**
 * The least an expense instance can do, for bench:serve's comparison: Bun.serve, one
 * prepared statement through a mysql2 pool's callback `execute` (the call the store makes),
 * the row as JSON. No routing framework, validation, ring check, metrics, log, timeout,
 * retry or row mapping. `bun bench/bare-serve.ts PORT MYSQL_URL POOL`.
 *
 * What it measures: an HTTP hop plus the driver call, the floor of any instance on this
 * machine; bench:serve prints the service against it and against the raw driver.
 */
import mysql from "mysql2";
import { toRow } from "../src/store/row.ts";

const [port, url, poolSize] = [Number(process.argv[2]), new URL(process.argv[3]!), Number(process.argv[4] ?? 16)];
const pool = mysql.createPool({
  host: url.hostname,
  port: Number(url.port),
  user: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
  database: url.pathname.slice(1),
  connectionLimit: poolSize,
  dateStrings: true,
});
const run = <T>(sql: string, values: mysql.ExecuteValues[]) =>
  new Promise<T>((resolve, reject) => pool.execute(sql, values, (e, result) => (e ? reject(e) : resolve(result as T))));

const COLUMNS = "id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date";
const INSERT = `INSERT INTO expenses (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const SELECT = `SELECT ${COLUMNS} FROM expenses WHERE id = ?`;
const UPDATE = "UPDATE expenses SET status = ? WHERE id = ?";
const PREFIX = "/v1/expenses";

Bun.serve({
  port,
  hostname: "127.0.0.1",
  async fetch(request) {
    const path = request.url.slice(request.url.indexOf("/", 8));
    if (path === "/healthz" || path === "/readyz") return new Response("ok");
    if (request.method === "POST" && path === PREFIX) {
      const row = toRow({ status: "pending", decision_date: "", ...((await request.json()) as object) } as never);
      await run(INSERT, [row.id, row.name, row.email, row.category, row.description, row.link, row.costCents, row.submitDate, row.status, row.decisionDate]);
      return Response.json(row, { status: 201 });
    }
    const id = Number(path.slice(PREFIX.length + 1));
    if (request.method === "PUT") {
      const { status } = (await request.json()) as { status: string };
      await run(UPDATE, [status, id]);
    }
    const rows = await run<unknown[]>(SELECT, [id]);
    return rows.length ? Response.json(rows[0], { status: request.method === "PUT" ? 202 : 200 }) : new Response("not found", { status: 404 });
  },
});
