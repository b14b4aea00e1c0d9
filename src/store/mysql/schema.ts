import { bigint, char, date, datetime, mediumtext, mysqlEnum, mysqlTable, text, varchar } from "drizzle-orm/mysql-core";
import { MAX_EMAIL, MAX_LINK, MAX_NAME, STATUSES } from "../../expenses/model.ts";

/**
 * The expenses table in MySQL/MariaDB; column names and meaning as in ../row.ts and sqlite/schema.ts.
 * migrations.ts creates it; test/store/schema.test.ts checks that the two agree.
 */
export const expenses = mysqlTable("expenses", {
  id: bigint("id", { mode: "number", unsigned: true }).primaryKey(),
  name: varchar("name", { length: MAX_NAME }).notNull(),
  email: varchar("email", { length: MAX_EMAIL }).notNull(),
  category: varchar("category", { length: MAX_NAME }).notNull(),
  description: text("description").notNull(),
  link: varchar("link", { length: MAX_LINK }).notNull(),
  costCents: bigint("estimated_costs_cents", { mode: "number", unsigned: true }).notNull(),
  submitDate: date("submit_date", { mode: "string" }).notNull(),
  status: mysqlEnum("status", STATUSES).notNull(),
  decisionDate: date("decision_date", { mode: "string" }),
});

/** The instance's ring (see ../../ring/ring-records.ts), one row per role; migration 2 creates it. */
export const instanceRing = mysqlTable("instance_ring", {
  role: varchar("role", { length: 16 }).primaryKey(),
  epoch: bigint("epoch", { mode: "number", unsigned: true }).notNull(),
  fingerprint: char("fingerprint", { length: 16 }).notNull(),
  ring: mediumtext("ring").notNull(),
  savedAt: datetime("saved_at", { mode: "string", fsp: 3 }).notNull(),
});

/** The rebalance this instance takes part in (see ../../rebalance/records.ts); migration 3 creates it. */
export const rebalance = mysqlTable("rebalance", {
  name: varchar("name", { length: 16 }).primaryKey(),
  job: varchar("job", { length: 80 }).notNull(),
  phase: varchar("phase", { length: 16 }).notNull(),
  token: varchar("token", { length: 64 }),
  record: mediumtext("record").notNull(),
  savedAt: datetime("saved_at", { mode: "string", fsp: 3 }).notNull(),
});

/** The change log of writes to moving ids; migration 3 creates it. */
export const rebalanceChanges = mysqlTable("rebalance_changes", {
  seq: bigint("seq", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
  id: bigint("id", { mode: "number", unsigned: true }).notNull(),
});
