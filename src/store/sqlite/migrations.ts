/**
 * SQLite schema migrations, embedded as strings so that they travel inside the
 * compiled binary. Append only: a released migration never changes.
 */
import type { Migration } from "../migrate.ts";

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "create expenses",
    statements: [
      `CREATE TABLE IF NOT EXISTS expenses (
        id INTEGER PRIMARY KEY CHECK (id >= 0),
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        category TEXT NOT NULL,
        description TEXT NOT NULL,
        link TEXT NOT NULL,
        estimated_costs_cents INTEGER NOT NULL CHECK (estimated_costs_cents >= 0),
        submit_date TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'overbudget')),
        decision_date TEXT
      ) STRICT`,
    ],
  },
  {
    version: 2,
    name: "create instance_ring",
    statements: [
      // One row per role; "current" is the ring in force (a rebalance may add others).
      `CREATE TABLE IF NOT EXISTS instance_ring (
        role TEXT PRIMARY KEY NOT NULL,
        epoch INTEGER NOT NULL CHECK (epoch >= 0),
        fingerprint TEXT NOT NULL,
        ring TEXT NOT NULL,
        saved_at TEXT NOT NULL
      ) STRICT`,
    ],
  },
  {
    version: 3,
    name: "create rebalance and rebalance_changes",
    statements: [
      // The rebalance this instance takes part in: one row, "current" (see src/rebalance/records.ts).
      `CREATE TABLE IF NOT EXISTS rebalance (
        name TEXT PRIMARY KEY NOT NULL,
        job TEXT NOT NULL,
        phase TEXT NOT NULL,
        token TEXT,
        record TEXT NOT NULL,
        saved_at TEXT NOT NULL
      ) STRICT`,
      // The ids of writes to moving records (a queue; see RebalanceRecords).
      `CREATE TABLE IF NOT EXISTS rebalance_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id INTEGER NOT NULL
      ) STRICT`,
    ],
  },
];
