import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { STATUSES } from "../../expenses/model.ts";

/**
 * The expenses table in SQLite; column names and meaning as in ../row.ts and mysql/schema.ts.
 * migrations.ts creates it; test/store/schema.test.ts checks that the two agree.
 */
export const expenses = sqliteTable("expenses", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull(),
  category: text("category").notNull(),
  description: text("description").notNull(),
  link: text("link").notNull(),
  costCents: integer("estimated_costs_cents").notNull(),
  submitDate: text("submit_date").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  decisionDate: text("decision_date"),
});

/** The instance's ring (see ../../ring/ring-records.ts), one row per role; migration 2 creates it. */
export const instanceRing = sqliteTable("instance_ring", {
  role: text("role").primaryKey(),
  epoch: integer("epoch").notNull(),
  fingerprint: text("fingerprint").notNull(),
  ring: text("ring").notNull(),
  savedAt: text("saved_at").notNull(),
});

/** The rebalance this instance takes part in (see ../../rebalance/records.ts); migration 3 creates it. */
export const rebalance = sqliteTable("rebalance", {
  name: text("name").primaryKey(),
  job: text("job").notNull(),
  phase: text("phase").notNull(),
  token: text("token"),
  record: text("record").notNull(),
  savedAt: text("saved_at").notNull(),
});

/** The change log of writes to moving ids; migration 3 creates it. */
export const rebalanceChanges = sqliteTable("rebalance_changes", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  id: integer("id").notNull(),
});
