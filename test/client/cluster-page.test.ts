/**
 * The cluster page of `shardctl status --web PORT`, in headless Chromium: after `client
 * run` it shows the three nodes with their record counts (expected from the reference
 * ring), the ring picture, and nothing loaded from elsewhere; a node in a rebalance shows
 * its progress.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { chromiumMissing, dumpDom, layoutOf } from "../support/chromium.ts";
import { runCli } from "../support/cli.ts";
import { freePort, waitFor } from "../support/net.ts";
import { localNodes, referenceOwner, ringOf, startCluster, type RingCluster } from "../support/cluster.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");
const noBrowser = chromiumMissing("the cluster page in a browser");

/** `status --web` as a process; resolves with the page's address once it listens. */
async function statusWeb(args: string[]) {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, CLI, "status", ...args, "--web", String(port), "--interval", "1"], { stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of proc.stderr as unknown as AsyncIterable<Uint8Array>) stderr += new TextDecoder().decode(chunk);
  })();
  await waitFor(() => (stderr.includes("is at http://") ? true : proc.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined), {
    timeoutMs: 20_000,
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      proc.kill("SIGINT");
      const code = await proc.exited;
      await reading;
      return code;
    },
  };
}

/** `[name, records]` of each node row the page shows, in order. */
function rowsOf(dom: string): [string, string][] {
  const rows: [string, string][] = [];
  for (const m of dom.matchAll(/<tr data-node="([^"]+)">(.*?)<\/tr>/gs)) {
    const records = /<td class="num records">([^<]*)<\/td>/.exec(m[2]!)?.[1] ?? "?";
    rows.push([m[1]!, records]);
  }
  return rows;
}

describe("the cluster page", () => {
  let cluster: RingCluster;
  let nodes: string;
  let expected: [string, string][];
  beforeAll(async () => {
    const ring = ringOf(await localNodes(["a", "b", "c"]));
    cluster = await startCluster({ ring, db: () => "sqlite::memory:" });
    nodes = cluster.nodeList;
    const run = await runCli("client", "run", "--nodes", nodes, "--ids", "1..60");
    expect(run.code).toBe(0);
    const owner = referenceOwner(ring);
    const counts = new Map<string, number>();
    for (let id = 1; id <= 60; id++) counts.set(owner(String(id)), (counts.get(owner(String(id))) ?? 0) + 1);
    expected = ["a", "b", "c"].map((n) => [n, String(counts.get(n) ?? 0)]);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test("the page and its status come from the command alone: no script, style or font from elsewhere", async () => {
    const web = await statusWeb(["--nodes", nodes]);
    try {
      const html = await (await fetch(web.url)).text();
      expect(html).toContain("<svg");
      // the SVG namespace is a name, not a download
      expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(/(src|href)="?(https?:)?\/\/|url\(|@import/);
      const status = (await (await fetch(`${web.url}status.json`)).json()) as { nodes: { name: string; records: number }[] };
      expect(status.nodes.map((n) => [n.name, String(n.records)])).toEqual(expected);
    } finally {
      expect(await web.stop()).toBe(0);
    }
  });

  test.skipIf(!!noBrowser)(
    "headless Chromium shows the three nodes with their record counts after client run",
    async () => {
      const web = await statusWeb(["--nodes", nodes]);
      try {
        const dom = await dumpDom(web.url);
        expect(rowsOf(dom)).toEqual(expected);
        expect(dom).toContain("All 3 nodes up, ready and on ring");
        expect(dom).toContain('id="total">60<');
      } finally {
        expect(await web.stop()).toBe(0);
      }
    },
    60_000,
  );

  /** A node that answers as an instance taking part in a rebalance (`rebalance` as GET /ring shows it). */
  function inRebalance(name: string, rebalance: Record<string, unknown>) {
    return Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const path = new URL(request.url).pathname;
        const headers = { "x-shard-node": name };
        if (path === "/status")
          return Response.json({ node: name, ready: true, version: "0.1.0", database: "mysql", records: 3403, ring: null, uptime_s: 1 }, { headers });
        if (path === "/ring") return Response.json({ epoch: 0, fingerprint: "x", vnodes: 160, nodes: [], label: "x", rebalance }, { headers });
        return new Response("no", { status: 404, headers });
      },
    });
  }

  test.skipIf(!!noBrowser)(
    "a finished rebalance shows as finished, with when; not as 'done 3,403/3,403 (done)'",
    async () => {
      const finished = new Date(Date.now() - 60_000);
      const node = inRebalance("r", {
        job: "0:aaaa -> 1:bbbb",
        from: "0:aaaa",
        to: "1:bbbb",
        phase: "done",
        finished: finished.toISOString(),
        progress: { step: "done", copied: 3403, toCopy: 3403 },
      });
      const web = await statusWeb(["--nodes", `r=127.0.0.1:${node.port}`]);
      try {
        const dom = await dumpDom(web.url);
        const cell = /<td class="rebalance"[^>]*>(.*?)<\/td>/s.exec(/<tr data-node="r">(.*?)<\/tr>/s.exec(dom)![1]!)![1]!;
        expect(cell).toMatch(/^<span class="ok">finished<\/span> \d{1,2}:\d{2}:\d{2}( [AP]M)?<div class="muted">3,403 records copied<\/div>$/);
        expect(/<tbody>.*<\/tbody>/s.exec(dom)![0]).not.toContain("(done)");
      } finally {
        expect(await web.stop()).toBe(0);
        node.stop(true);
      }
    },
    60_000,
  );

  test.skipIf(!!noBrowser)(
    "at 1280x800 it reads without scrolling sideways, its text (the ring's legend too) at 12 px and up, with an address and a rebalance column",
    async () => {
      // the three real nodes, and one in a rebalance with a long name: the address column and the rebalance column shown
      const node = inRebalance("rebalancing-node-on-its-way", {
        job: "0:aaaaaaaaaaaaaaaa -> 1:bbbbbbbbbbbbbbbb",
        from: "0:aaaaaaaaaaaaaaaa",
        to: "1:bbbbbbbbbbbbbbbb",
        phase: "copying",
        progress: { step: "copy", copied: 1200, toCopy: 3400 },
      });
      const list = `${nodes},rebalancing-node-on-its-way=127.0.0.1:${node.port}`;
      const web = await statusWeb(["--nodes", list]);
      try {
        const layout = await layoutOf(web.url);
        expect(layout.innerWidth).toBe(1280);
        expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
        expect(layout.svgs).toHaveLength(1);
        expect(layout.svgs[0]!.smallestText).toBeGreaterThanOrEqual(12);
        expect(layout.smallestText).toBeGreaterThanOrEqual(12);
      } finally {
        expect(await web.stop()).toBe(0);
        node.stop(true);
      }
    },
    60_000,
  );

  test.skipIf(!!noBrowser)(
    "a node down shows as down, and a rebalance's progress is drawn",
    async () => {
      // one real node, one that is down, and one that answers as a node in a rebalance
      const rebalancing = inRebalance("r", {
        job: "0:aaaa -> 1:bbbb",
        from: "0:aaaa",
        to: "1:bbbb",
        phase: "copying",
        progress: { step: "copy", copied: 120, toCopy: 300 },
      });
      const downPort = await freePort();
      const a = cluster.ring.node("a")!;
      const web = await statusWeb(["--nodes", `a=${a.url.slice("http://".length)},r=127.0.0.1:${rebalancing.port},d=127.0.0.1:${downPort}`]);
      try {
        const dom = await dumpDom(web.url);
        expect(rowsOf(dom).map(([name]) => name)).toEqual(["a", "r", "d"]);
        expect(dom).toContain("copying 120/300 (copy)");
        expect(dom).toMatch(/<span class="bar"><span style="width: 40(\.0)?%;?"><\/span><\/span>/);
        expect(dom).toMatch(/node d: down: /);
        expect(dom).toContain("nodes need attention");
      } finally {
        expect(await web.stop()).toBe(0);
        rebalancing.stop(true);
      }
    },
    60_000,
  );
});

describe("the cluster page's caption", () => {
  test("says the weights when they differ, and the one weight when they do not", async () => {
    const { renderClusterPage } = await import("../../src/cli-output/cluster-page.ts");
    const { parseNodeList } = await import("../../src/ring/node.ts");
    const { Ring } = await import("../../src/ring/ring.ts");
    const page = (nodes: string) => renderClusterPage(new Ring(parseNodeList(nodes), { vnodes: 100 }), { refreshMs: 2000, sampleIds: [] });
    expect(page("a=127.0.0.1:1:2,b=127.0.0.1:2")).toContain("2 nodes, 100 vnodes per unit of weight (weights a=2, b=1).");
    expect(page("a=127.0.0.1:1,b=127.0.0.1:2")).toContain("2 nodes, 100 vnodes each (weight 1).");
  });
});
