/**
 * What a person sees on a terminal 80, 100 and 160 columns wide, and what a script sees
 * off one, recorded from the command run as a process: tables fit the terminal, the
 * least useful columns give way first, and identifiers (node names, addresses, hashes)
 * are never cut. The cluster uses the README's default names, `host:port`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { freePort } from "../support/net.ts";
import { ringOf, startCluster, type RingCluster } from "../support/cluster.ts";
import { offTerminal, onTerminal, widest } from "../support/terminal.ts";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const WIDTHS = [80, 100, 160] as const;

describe("ring show on a terminal", () => {
  const ids = ["1", "2", "3"];
  const hashes = ids.map(md5);

  test.each(WIDTHS)("at %d columns the hashes are whole and every line fits", async (cols) => {
    const r = await onTerminal(["ring", "show", ...ids], { cols });
    expect(r.code).toBe(0);
    expect(widest(r.lines)).toBeLessThanOrEqual(cols);
    const text = r.lines.join("\n");
    for (const h of hashes) expect(text).toContain(h);
    // the point each id goes to, whole too (32 hex digits beside or below each md5)
    expect(text.match(/\b[0-9a-f]{32}\b/g)!.length).toBe(2 * ids.length);
  });

  test("160 columns: one table with the urls; 100: the urls give way; 80: one block per id", async () => {
    const wide = (await onTerminal(["ring", "show", ...ids], { cols: 160 })).lines;
    expect(wide[0]).toMatch(/^id\s+node\s+md5\(id\)\s+point\s+vnode\s+url$/);
    expect(wide[2]).toMatch(new RegExp(`^ 1  127\\.0\\.0\\.1:500\\d  ${hashes[0]}  [0-9a-f]{32}  \\d+\\s+http://127\\.0\\.0\\.1:500\\d$`));
    const mid = (await onTerminal(["ring", "show", ...ids], { cols: 100 })).lines;
    expect(mid[0]).toMatch(/^id\s+node\s+md5\(id\)\s+point\s+vnode$/);
    const narrow = (await onTerminal(["ring", "show", ...ids], { cols: 80 })).lines;
    expect(narrow.slice(0, 6)).toEqual([
      "id 1",
      expect.stringMatching(/^ {2}node {5}127\.0\.0\.1:500\d$/),
      `  md5(id)  ${hashes[0]}`,
      expect.stringMatching(/^ {2}point {4}[0-9a-f]{32}$/),
      expect.stringMatching(/^ {2}vnode {4}\d+$/),
      expect.stringMatching(/^ {2}url {6}http:\/\/127\.0\.0\.1:500\d$/),
    ]);
  });

  test("off a terminal it stays a table, hashes whole, the urls left out past 80 columns; --wide shows them", async () => {
    const r = await offTerminal(["ring", "show", ...ids]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^id\s+node\s+md5\(id\)\s+point\s+vnode$/);
    for (const [i, h] of hashes.entries()) expect(lines[2 + i]).toContain(h);
    const wide = await offTerminal(["ring", "show", ...ids, "--wide"]);
    expect(wide.stdout.split("\n")[0]).toMatch(/^id\s+node\s+md5\(id\)\s+point\s+vnode\s+url$/);
  });
});

describe("status on a terminal, nodes named host:port", () => {
  let cluster: RingCluster;
  let nodes: string;
  beforeAll(async () => {
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    nodes = ports.map((p) => `127.0.0.1:${p}`).join(",");
    cluster = await startCluster({ ring: ringOf(nodes) });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test.each(WIDTHS)("at %d columns every address is whole and every line fits", async (cols) => {
    const r = await onTerminal(["status", "--nodes", nodes], { cols });
    expect(r.code).toBe(0);
    expect(widest(r.lines)).toBeLessThanOrEqual(cols);
    for (const n of cluster.nodes) expect(r.lines.some((l) => l.startsWith(`${n.name}  `))).toBe(true);
    expect(r.lines.join("\n")).toContain(cluster.ring.label);
    expect(r.lines.join("\n")).not.toContain("…");
  });

  test("the address column is left out where it repeats the node's name; off a terminal the table is the 80-column one", async () => {
    const r = await offTerminal(["status", "--nodes", nodes]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^node\s+state\s+ring\s+records\s+version\s+db\s+ms$/);
    expect(widest(lines)).toBeLessThanOrEqual(80);
    const named = await offTerminal(["status", "--nodes", cluster.nodes.map((n, i) => `n${i}=${n.url.slice(7)}`).join(",")]);
    // other names: the address says something the name does not
    expect(named.stdout.split("\n")[0]).toMatch(/^node\s+address\s+state\s+ring/);
  });
});

describe("--help on a terminal", () => {
  test.each(WIDTHS)("at %d columns: one line per command, every line fits, broken only at spaces", async (cols) => {
    const r = await onTerminal(["--help"], { cols });
    expect(r.code).toBe(0);
    expect(widest(r.lines)).toBeLessThanOrEqual(cols);
    const at = r.lines.indexOf("COMMANDS");
    const commands = r.lines.slice(at + 2, r.lines.indexOf("", at + 2));
    expect(commands.map((l) => l.trim().split(/\s+/)[0])).toEqual(["serve", "router", "client", "ring", "status", "rebalance", "repair", "demo"]);
    // the note at the end, wrapped at spaces: its words come back whole when the lines are joined
    const end = r.lines
      .slice(r.lines.findIndex((l) => l.startsWith("Nodes: ")))
      .join(" ")
      .trim();
    expect(end).toBe(
      'Nodes: --nodes a=127.0.0.1:5001,b=127.0.0.1:5002 (or SHARDCTL_NODES). Exit status: 0 ok, 1 a problem found, 2 bad usage. "shardctl version" (or --version) prints the version.',
    );
  });

  test.each(WIDTHS)("a command's own help at %d columns: its options' descriptions wrapped at spaces under themselves", async (cols) => {
    const r = await onTerminal(["help", "client", "run"], { cols });
    expect(r.code).toBe(0);
    expect(widest(r.lines)).toBeLessThanOrEqual(cols);
    const at = r.lines.findIndex((l) => l.startsWith("  --ring=<FILE>"));
    const column = r.lines[at]!.indexOf("JSON ring file");
    const block = [r.lines[at]!.slice(column)];
    for (let i = at + 1; r.lines[i]!.startsWith(" ".repeat(column)); i++) block.push(r.lines[i]!.trim());
    expect(block.join(" ")).toBe(
      'JSON ring file {"epoch": N, "vnodes": K, "nodes": [...]}; env SHARDCTL_RING. --nodes/--vnodes win over it, it wins over SHARDCTL_NODES/SHARDCTL_VNODES',
    );
  });

  test("off a terminal: 80 columns", async () => {
    const r = await offTerminal(["--help"]);
    expect(r.code).toBe(0);
    expect(widest(r.stdout.split("\n"))).toBeLessThanOrEqual(80);
  });
});
