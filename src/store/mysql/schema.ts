import { bigint, date, mysqlEnum, mysqlTable, text, varchar } from "drizzle-orm/mysql-core";
import { STATUSES } from "../../expenses/model.ts";

/** The expenses table in MySQL/MariaDB; column names and meaning as in ../record.ts and sqlite/schema.ts. */
export const expenses = mysqlTable("expenses", {
  id: bigint("id", { mode: "number", unsigned: true }).primaryKey(),
  name: varchar("name", { length: 255 }).notNull(),
  email: varchar("email", { length: 254 }).notNull(),
  category: varchar("category", { length: 255 }).notNull(),
  description: text("description").notNull(),
  link: varchar("link", { length: 2048 }).notNull(),
  costCents: bigint("estimated_costs_cents", { mode: "number", unsigned: true }).notNull(),
  submitDate: date("submit_date", { mode: "string" }).notNull(),
  status: mysqlEnum("status", STATUSES).notNull(),
  decisionDate: date("decision_date", { mode: "string" }),
});
