/**
 * What a ring-aware instance needs from its database: its ring, kept next to the
 * expenses so that a restart keeps the newest one. src/store/ implements it for MySQL
 * and SQLite. The store keeps the ring as text and never parses it; the ring guard
 * (ring-guard.ts) turns it into a Ring.
 */

/** A ring as the database keeps it: its identity, and its JSON (a ring file, as GET /ring answers it). */
export interface StoredRing {
  readonly epoch: number;
  readonly fingerprint: string;
  readonly text: string;
}

/** What `saveRing` did: saved it, or kept the saved ring, whose epoch is not smaller. */
export type RingSave = { readonly saved: true } | { readonly saved: false; readonly current: StoredRing };

export interface RingRecords {
  /** The instance's ring, or undefined when none was ever saved. */
  loadRing(): Promise<StoredRing | undefined>;
  /**
   * Saves `ring` when no ring is saved or the saved one has a smaller epoch; otherwise
   * changes nothing and answers the saved ring. Atomic: of concurrent saves, the ring
   * that stays is the one with the largest epoch.
   */
  saveRing(ring: StoredRing): Promise<RingSave>;
}
