/**
 * The placement hash of the contract: MD5 of the UTF-8 key, read as an unsigned
 * 128-bit big-endian integer.
 *
 * The ring compares hashes as four big-endian 32-bit words (no BigInt on the hot
 * path); BigInt and hex forms exist for explanations and tests.
 */

/** A 128-bit hash as four unsigned 32-bit words, most significant first. */
export type Words = readonly [number, number, number, number];

const scratch = new Uint8Array(16);
const view = new DataView(scratch.buffer);

/** MD5 of `key` into the shared scratch buffer; read it before the next call. */
export function md5Into(key: string): DataView {
  Bun.MD5.hash(key, scratch);
  return view;
}

export function md5Words(key: string): Words {
  const v = md5Into(key);
  return [v.getUint32(0), v.getUint32(4), v.getUint32(8), v.getUint32(12)];
}

export function md5Hex(key: string): string {
  return new Bun.CryptoHasher("md5").update(key).digest("hex");
}

export function md5BigInt(key: string): bigint {
  return BigInt("0x" + md5Hex(key));
}

export function wordsToHex(w: Words): string {
  return w.map((x) => x.toString(16).padStart(8, "0")).join("");
}

export function wordsToBigInt(w: Words): bigint {
  return BigInt("0x" + wordsToHex(w));
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
