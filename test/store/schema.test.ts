/**
 * The embedded migrations are hand-written SQL; the drizzle schemas are what the code
 * reads and writes through. This holds the two to one shape: after migrating, every
 * table the database reports (names, types with lengths, nullability, primary key)
 * is the table the schema describes, on both dialects, and no table is in one only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { getTableConfig as mysqlTableConfig } from "drizzle-orm/mysql-core";
import { getTableConfig as sqliteTableConfig } from "drizzle-orm/sqlite-core";
import { openStore } from "../../src/store/index.ts";
import * as mysqlSchema from "../../src/store/mysql/schema.ts";
import * as sqliteSchema from "../../src/store/sqlite/schema.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";

interface ColumnShape {
  name: string;
  type: string;
  notNull: boolean;
  primaryKey: boolean;
}

function schemaColumns(columns: { name: string; getSQLType(): string; notNull: boolean; primary: boolean }[]): ColumnShape[] {
  return columns.map((c) => ({ name: c.name, type: c.getSQLType().toLowerCase(), notNull: c.notNull, primaryKey: c.primary }));
}

describe("sqlite: the migrated table is the drizzle schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "shardctl-schema-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("tables, columns, types, NOT NULL and primary key agree", async () => {
    const path = join(dir, "schema.sqlite");
    const store = await openStore(`sqlite:${path}`);
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      const tables = db
        .query<{ name: string }, []>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_migrations') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all()
        .map((t) => t.name);
      const configs = Object.values(sqliteSchema).map((table) => sqliteTableConfig(table));
      expect(tables).toEqual(configs.map((c) => c.name).sort());
      for (const config of configs) {
        const info = db.query<{ name: string; type: string; notnull: number; pk: number }, []>(`PRAGMA table_info(${config.name})`).all();
        const migrated = info.map((c) => ({ name: c.name, type: c.type.toLowerCase(), notNull: c.notnull === 1 || c.pk === 1, primaryKey: c.pk === 1 }));
        // A primary key column is taken as NOT NULL: an INTEGER PRIMARY KEY is the rowid, and the DDL says so for the others.
        const expected = schemaColumns(config.columns).map((c) => ({ ...c, notNull: c.notNull || c.primaryKey }));
        expect({ table: config.name, columns: migrated }).toEqual({ table: config.name, columns: expected });
      }
    } finally {
      db.close();
    }
  });
});

describe.skipIf(!!mysqlUnavailable)("mysql: the migrated table is the drizzle schema", () => {
  let server: MariaDB;
  beforeAll(async () => {
    server = await startMariaDB();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("tables, columns, types with lengths, NOT NULL and primary key agree", async () => {
    const store = await openStore(server.url("schema_check"));
    await store.close();
    const conn = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
    try {
      const [tables] = await conn.query<mysql.RowDataPacket[]>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'schema_check' AND TABLE_NAME <> 'schema_migrations' ORDER BY TABLE_NAME",
      );
      const configs = Object.values(mysqlSchema).map((table) => mysqlTableConfig(table));
      expect(tables.map((t) => t.name)).toEqual(configs.map((c) => c.name).sort());
      for (const config of configs) {
        const [rows] = await conn.query<mysql.RowDataPacket[]>(
          `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_KEY AS k
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'schema_check' AND TABLE_NAME = ?
            ORDER BY ORDINAL_POSITION`,
          [config.name],
        );
        const migrated = rows.map((r) => ({
          name: r.name as string,
          // MariaDB reports integer display widths (bigint(20)); they mean nothing for storage.
          type: (r.type as string).toLowerCase().replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, "$1"),
          notNull: r.nullable === "NO",
          primaryKey: r.k === "PRI",
        }));
        expect({ table: config.name, columns: migrated }).toEqual({ table: config.name, columns: schemaColumns(config.columns) });
      }
    } finally {
      await conn.end();
    }
  });
});
