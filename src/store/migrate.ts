/**
 * Schema migrations: embedded as SQL strings (they travel inside the compiled binary),
 * append only, applied in order by one runner for both dialects. Each dialect says how
 * to hold the migration lock, so that two instances starting on one database never
 * both apply a migration.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** What the runner needs of a database: one connection, never a pool. */
export interface MigrationTarget {
  /** Creates the bookkeeping table `schema_migrations (version, name, applied_at)` if missing. */
  prepare(): Promise<void>;
  /** Runs `work` holding the migration lock; throws when the lock cannot be had. */
  locked(work: () => Promise<void>): Promise<void>;
  /** The versions already applied (read under the lock). */
  applied(): Promise<ReadonlySet<number>>;
  /** Runs the statements and records the migration as applied. */
  apply(migration: Migration): Promise<void>;
}

export async function migrate(target: MigrationTarget, migrations: readonly Migration[]): Promise<void> {
  await target.prepare();
  await target.locked(async () => {
    const applied = await target.applied();
    for (const m of migrations) if (!applied.has(m.version)) await target.apply(m);
  });
}
