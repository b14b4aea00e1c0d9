/**
 * MySQL/MariaDB schema migrations, embedded as strings so that they travel inside
 * the compiled binary. Append only: a released migration never changes.
 */
import type { Migration } from "../migrate.ts";

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "create expenses",
    statements: [
      `CREATE TABLE IF NOT EXISTS expenses (
        id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        email VARCHAR(254) NOT NULL,
        category VARCHAR(255) NOT NULL,
        description TEXT NOT NULL,
        link VARCHAR(2048) NOT NULL,
        estimated_costs_cents BIGINT UNSIGNED NOT NULL,
        submit_date DATE NOT NULL,
        status ENUM('pending', 'approved', 'rejected', 'overbudget') NOT NULL DEFAULT 'pending',
        decision_date DATE NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
  {
    version: 2,
    name: "create instance_ring",
    statements: [
      // One row per role; "current" is the ring in force (a rebalance may add others).
      `CREATE TABLE IF NOT EXISTS instance_ring (
        role VARCHAR(16) NOT NULL PRIMARY KEY,
        epoch BIGINT UNSIGNED NOT NULL,
        fingerprint CHAR(16) NOT NULL,
        ring MEDIUMTEXT NOT NULL,
        saved_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
  {
    version: 3,
    name: "create rebalance and rebalance_changes",
    statements: [
      // The rebalance this instance takes part in: one row, "current" (see src/rebalance/records.ts).
      `CREATE TABLE IF NOT EXISTS rebalance (
        name VARCHAR(16) NOT NULL PRIMARY KEY,
        job VARCHAR(80) NOT NULL,
        phase VARCHAR(16) NOT NULL,
        token VARCHAR(64) NULL,
        record MEDIUMTEXT NOT NULL,
        saved_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
      // The ids of writes to moving records (a queue; see RebalanceRecords).
      `CREATE TABLE IF NOT EXISTS rebalance_changes (
        seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        id BIGINT UNSIGNED NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
];
