/**
 * The placement hash, the same for every client, instance and router: MD5 of the UTF-8
 * key, read as an unsigned 128-bit big-endian integer.
 *
 * The ring compares hashes as four big-endian 32-bit words (no BigInt on the hot
 * path); BigInt and hex forms exist for explanations, arc lengths and tests.
 */

/** A 128-bit hash as four unsigned 32-bit words, most significant first. */
export type Words = readonly [number, number, number, number];

const scratch = new Uint8Array(16);

/**
 * MD5 of `key` into one shared 16-byte buffer, which the next call overwrites.
 * The hot path reads the bytes it needs straight from it (a DataView costs more).
 */
export function md5Bytes(key: string): Uint8Array {
  Bun.MD5.hash(key, scratch);
  return scratch;
}

/** Big-endian 32-bit word `i` (0..3) of a 16-byte hash. */
export function wordAt(bytes: Uint8Array, i: number): number {
  const o = i * 4;
  return ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
}

export function md5Words(key: string): Words {
  const b = md5Bytes(key);
  return [wordAt(b, 0), wordAt(b, 1), wordAt(b, 2), wordAt(b, 3)];
}

export function wordsToHex(w: Words): string {
  return w.map((x) => x.toString(16).padStart(8, "0")).join("");
}

export function wordsToBigInt(w: Words): bigint {
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

/** -1, 0 or 1 as a < b, a == b, a > b (unsigned 128-bit order). */
export function compareWords(a: Words, b: Words): number {
  for (let i = 0; i < 4; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}

/** The size of the hash space, 2^128. */
export const HASH_SPACE = 1n << 128n;
