/** The instance's ring on SQLite (RingRecords): one row of instance_ring, read and saved in one write transaction. */
import { eq } from "drizzle-orm";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { RingRecords, StoredRing } from "../../ring/ring-records.ts";
import { CURRENT_RING } from "../types.ts";
import type { Run, Write } from "./runner.ts";
import { instanceRing } from "./schema.ts";

export function ringRecords(db: BunSQLiteDatabase, run: Run, write: Write): RingRecords {
  const loadRing = (): StoredRing | undefined => {
    const row = db.select().from(instanceRing).where(eq(instanceRing.role, CURRENT_RING)).get();
    return row && { epoch: row.epoch, fingerprint: row.fingerprint, text: row.ring };
  };

  return {
    loadRing: () => run(loadRing),
    saveRing: (ring) =>
      // A write transaction from the read on, so that another process on the same file cannot save in between.
      write(() => {
        const current = loadRing();
        if (current && current.epoch >= ring.epoch) return { saved: false as const, current };
        const row = { epoch: ring.epoch, fingerprint: ring.fingerprint, ring: ring.text, savedAt: new Date().toISOString() };
        db.insert(instanceRing)
          .values({ role: CURRENT_RING, ...row })
          .onConflictDoUpdate({ target: instanceRing.role, set: row })
          .run();
        return { saved: true as const };
      }),
  };
}
