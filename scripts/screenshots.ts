/**
 * `bun scripts/screenshots.ts`: the pictures of docs/, made again from the code as it is,
 * each in headless Chromium at 1280x800 (as test/support/chromium.ts runs it):
 *
 *   docs/cluster-page.png        `status --web` of three instances after client run over 1,000 ids
 *   docs/ring-draw-seed.png      `ring draw` of the seed ring: 3 nodes, 1 point each, ids 1..10
 *   docs/ring-draw-default.png   `ring draw` of the default ring: 3 nodes, 160 vnodes each
 *   docs/ring-draw-30-nodes.png  `ring draw` of 30 nodes, 160 vnodes each
 *   docs/openapi-page.png        an instance's /openapi page
 *
 * Needs chromium on PATH; starts its instances on free ports of 127.0.0.1 with SQLite in a
 * temp dir, and stops them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderRingSvg } from "../src/cli-output/ring-svg.ts";
import { recordsForIds } from "../src/client/input.ts";
import { runRecords } from "../src/client/run.ts";
import { ShardedExpenseClient } from "../src/client/sharded-client.ts";
import { startInstance } from "../src/instance/start.ts";
import { HashRing } from "../src/ring/hash-ring.ts";
import { parseNodeList } from "../src/ring/node.ts";
import { Ring } from "../src/ring/ring.ts";

const ROOT = join(import.meta.dir, "..");
const DOCS = join(ROOT, "docs");
const chromium = ["chromium", "chromium-browser", "google-chrome"].map((b) => Bun.which(b)).find(Boolean);
if (!chromium) throw new Error("no chromium on PATH (apt-get install chromium)");
const dir = mkdtempSync(join(tmpdir(), "shardctl-screenshots-"));
const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

/** A PNG of `url` in a 1280x800 window, after its scripts ran for a few seconds (not blocking: the instances answer meanwhile). */
async function screenshot(url: string, name: string): Promise<void> {
  const profile = mkdtempSync(join(dir, "profile-"));
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", `--user-data-dir=${profile}`];
  const shot = Bun.spawn([chromium!, ...args, "--window-size=1280,800", "--virtual-time-budget=4000", `--screenshot=${join(DOCS, name)}`, url], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const code = await shot.exited;
  if (code !== 0) throw new Error(`chromium exited with ${code} on ${url}`);
  console.log(`docs/${name}`);
}

/** `ring draw` of `nodes` as an SVG file, and its screenshot. */
async function ringPicture(nodes: string, vnodes: number, name: string): Promise<void> {
  const svg = renderRingSvg(new HashRing(parseNodeList(nodes), { vnodes }), ids(10));
  const file = join(dir, `${name}.svg`);
  writeFileSync(file, svg);
  await screenshot(`file://${file}`, `${name}.png`);
}

try {
  await ringPicture("1=127.0.0.1:5001,2=127.0.0.1:5002,3=127.0.0.1:5003", 1, "ring-draw-seed");
  await ringPicture("127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003", 160, "ring-draw-default");
  await ringPicture(Array.from({ length: 30 }, (_, i) => `n${i + 1}=10.0.0.${i + 1}:5001`).join(","), 160, "ring-draw-30-nodes");

  // three instances on ring epoch 1, 1,000 records placed by client run, the page of status --web
  const instances = await Promise.all(
    ["shard1", "shard2", "shard3"].map((name) => startInstance({ port: 0, name, db: `sqlite:${join(dir, `${name}.sqlite`)}`, log: false })),
  );
  try {
    const ring = new Ring(
      instances.map((s) => ({ name: s.name, url: s.url, weight: 1 })),
      { vnodes: 160, epoch: 1 },
    );
    await Promise.all(instances.map((s) => s.adoptRing(ring)));
    const client = new ShardedExpenseClient({ ring });
    const run = await runRecords(client, recordsForIds(ids(1000)));
    if (!run.ok) throw new Error("client run failed");
    const ringFile = join(dir, "ring.json");
    writeFileSync(ringFile, JSON.stringify(ring.toJSON()));
    const web = Bun.spawn([process.execPath, join(ROOT, "src/cli.ts"), "status", "--ring", ringFile, "--web", "0"], { stdout: "ignore", stderr: "pipe" });
    let said = "";
    for await (const chunk of web.stderr) {
      said += new TextDecoder().decode(chunk);
      if (said.includes("is at http://")) break;
    }
    const page = /is at (http:\/\/\S+)/.exec(said)![1]!;
    await screenshot(page, "cluster-page.png");
    web.kill("SIGINT");
    await web.exited;
    await screenshot(`${instances[0]!.url}/openapi`, "openapi-page.png");
  } finally {
    await Promise.all(instances.map((s) => s.stop()));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
