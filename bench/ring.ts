/**
 * npm run bench:ring
 *
 * The cost of a ring lookup beside the MD5 it cannot avoid: ns per lookup over 1M
 * distinct ids for 3 and 30 nodes (160 vnodes), and bare MD5 of the same keys with the
 * same primitive (Bun.MD5.hash into a buffer), in the same run. Each round interleaves
 * the three loops chunk by chunk so that a noisy neighbour hurts them alike; figures are
 * medians of the rounds, and the ratio is the median of each round's lookup/MD5 ratio. Then the median time to build a
 * 30-node ring. Targets: lookup <= 1.2x bare MD5, 30-node build < 5 ms.
 */
import { cpus } from "node:os";
import { DEFAULT_VNODES, HashRing, type RingMember } from "../src/ring/index.ts";

const KEYS = 1_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BUILDS = 41;
const LOOKUP_TARGET = 1.2;
const BUILD_TARGET_MS = 5;

const cluster = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `127.0.0.1:${5001 + i}` }));
// The first build in the process runs before the JIT has seen the code: what a CLI pays once.
const coldStart = Bun.nanoseconds();
const ring30 = new HashRing(cluster(30), { vnodes: DEFAULT_VNODES });
const coldBuildMs = (Bun.nanoseconds() - coldStart) / 1e6;
const ring3 = new HashRing(cluster(3), { vnodes: DEFAULT_VNODES });

let sink = 0;
const digest = new Uint8Array(16);

// Builds first, while the heap is small (the million keys below make GC pauses longer).
const builds: number[] = [];
for (let b = 0; b < BUILDS; b++) {
  const t = Bun.nanoseconds();
  sink += new HashRing(cluster(30), { vnodes: DEFAULT_VNODES }).get("1").length;
  builds.push((Bun.nanoseconds() - t) / 1e6);
}

const keys = Array.from({ length: KEYS }, (_, i) => String(i + 1));

/**
 * The keys go through in chunks, each chunk once bare and once through each ring, so
 * that all three loops see the same moments of a noisy machine. Returns ns per key.
 */
const CHUNK = 50_000;
function round(rings: readonly HashRing<RingMember>[]): number[] {
  const spent = [0, ...rings.map(() => 0)];
  for (let from = 0; from < KEYS; from += CHUNK) {
    const to = Math.min(KEYS, from + CHUNK);
    let t = Bun.nanoseconds();
    for (let i = from; i < to; i++) {
      Bun.MD5.hash(keys[i]!, digest);
      sink += digest[0]!;
    }
    spent[0]! += Bun.nanoseconds() - t;
    rings.forEach((ring, r) => {
      t = Bun.nanoseconds();
      for (let i = from; i < to; i++) sink += ring.get(keys[i]!).length;
      spent[r + 1]! += Bun.nanoseconds() - t;
    });
  }
  return spent.map((ns) => ns / KEYS);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Warm-up: let the JIT settle on all three loops before measuring.
round([ring3, ring30]);

const md5: number[] = [];
const with3: number[] = [];
const with30: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const [bare, a, b] = round([ring3, ring30]);
  md5.push(bare!);
  with3.push(a!);
  with30.push(b!);
}
const ratio = (xs: number[]) => median(xs.map((x, i) => x / md5[i]!));

const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(`bun ${Bun.version}, ${cpus().length} CPUs (${cpu}); ${KEYS} distinct ids; medians of ${ROUNDS} rounds\n`);
const row = (what: string, ns: number, r: number, target = "") =>
  `${what.padEnd(26)}${ns.toFixed(1).padStart(8)} ns${r.toFixed(2).padStart(10)}x  ${target}`.trimEnd();
console.log(`${"".padEnd(26)}${"per key".padStart(11)}${"vs MD5".padStart(11)}`);
console.log(row("bare MD5 (Bun.MD5.hash)", median(md5), 1));
for (const [name, times] of [
  ["ring.get, 3 nodes x 160", with3],
  ["ring.get, 30 nodes x 160", with30],
] as const) {
  const r = ratio(times);
  console.log(row(name, median(times), r, `target <= ${LOOKUP_TARGET}x: ${verdict(r <= LOOKUP_TARGET)}`));
}
const build = median(builds);
console.log(
  `\nbuild 30 nodes x 160 (${30 * DEFAULT_VNODES} points): ${build.toFixed(2)} ms median of ${BUILDS} ` +
    `(min ${Math.min(...builds).toFixed(2)}, max ${Math.max(...builds).toFixed(2)}); ` +
    `target < ${BUILD_TARGET_MS} ms: ${verdict(build < BUILD_TARGET_MS)}`,
);
console.log(`first build in the process (cold JIT): ${coldBuildMs.toFixed(2)} ms`);
const rounds = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
console.log(`\nper round, ns: md5 ${rounds(md5)} | 3 nodes ${rounds(with3)} | 30 nodes ${rounds(with30)}`);
if (sink === -1) console.log(sink); // keep the loops' results alive
