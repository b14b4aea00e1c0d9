/**
 * The instance's ring on MySQL (RingRecords): one row of instance_ring, saved by a
 * compare-and-set on the epoch.
 */
import type mysql from "mysql2/promise";
import { and, eq, lt, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import type { RingRecords, StoredRing } from "../../ring/ring-records.ts";
import { CURRENT_RING } from "../types.ts";
import { isDuplicateKey } from "./errors.ts";
import type { Runner, Session } from "./runner.ts";
import { instanceRing } from "./schema.ts";
import type { Rows } from "./statement.ts";

export function ringRecords(db: MySql2Database, run: Runner): RingRecords {
  const selectRing = db.select().from(instanceRing).where(eq(instanceRing.role, CURRENT_RING)).toSQL();
  const loadRing = async (s: Session): Promise<StoredRing | undefined> => {
    const [row] = await s.execute<Rows>(selectRing.sql, selectRing.params);
    return row && { epoch: Number(row.epoch), fingerprint: String(row.fingerprint), text: String(row.ring) };
  };

  return {
    loadRing: () => run(loadRing),
    saveRing: (ring) =>
      run(async (s) => {
        const row = { epoch: ring.epoch, fingerprint: ring.fingerprint, ring: ring.text, savedAt: sql`NOW(3)` };
        const update = db
          .update(instanceRing)
          .set(row)
          .where(and(eq(instanceRing.role, CURRENT_RING), lt(instanceRing.epoch, ring.epoch)))
          .toSQL();
        const insert = db
          .insert(instanceRing)
          .values({ role: CURRENT_RING, ...row })
          .toSQL();
        // Compare-and-set without a transaction: a conditional UPDATE of the existing row, else
        // an INSERT of the first one (the primary key lets only one of two first saves in), else
        // the saved ring is at least as new. Another save landing between two of these steps
        // sends the loop round again; each round a save with a smaller epoch wins, which
        // cannot go on for long.
        for (let round = 1; ; round++) {
          if ((await s.execute<mysql.ResultSetHeader>(update.sql, update.params)).affectedRows === 1) return { saved: true as const };
          try {
            await s.execute(insert.sql, insert.params);
            return { saved: true as const };
          } catch (e) {
            if (!isDuplicateKey(e)) throw e;
          }
          const current = await loadRing(s);
          if (current && current.epoch >= ring.epoch) return { saved: false as const, current };
          if (round >= 10) throw new Error(`saving ring epoch ${ring.epoch}: other saves kept changing the ring; try again`);
        }
      }),
  };
}
