/** The real command tree through the runner: help and usage alike for every group, did-you-mean, --version. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runCli as shardctl } from "../support/cli.ts";

describe("help and usage", () => {
  test("shardctl and shardctl client alone print their usage and exit 0", async () => {
    const bare = await shardctl();
    expect([bare.code, bare.stderr]).toEqual([0, ""]);
    expect(bare.stdout).toMatch(/^USAGE shardctl \S*\bclient\b\S*$/m);
    const client = await shardctl("client");
    expect([client.code, client.stderr]).toEqual([0, ""]);
    expect(client.stdout).toContain("USAGE shardctl client run|verify|ring");
  });

  test("shardctl client help run, shardctl help client run and shardctl client run --help print the same", async () => {
    const a = await shardctl("client", "help", "run");
    const b = await shardctl("help", "client", "run");
    const c = await shardctl("client", "run", "--help");
    expect(a.code + b.code + c.code).toBe(0);
    expect(a.stdout).toContain("USAGE shardctl client run [OPTIONS]");
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    expect((await shardctl("client", "help")).stdout).toBe((await shardctl("help", "client")).stdout);
  });

  test("near misses of commands and options are answered with the likely one", async () => {
    const cases: [string[], string][] = [
      [["ring", "shw", "1"], 'shardctl ring: unknown command "shw"; did you mean "ring show"? (one of show, stats, diff, draw, check)'],
      [["show", "1"], 'shardctl: unknown command "show"; did you mean "ring show"? (one of '],
      [["clinet", "run"], 'shardctl: unknown command "clinet"; did you mean "client run"? (one of '],
      [["client", "run", "--jsn"], "shardctl client run: unknown option --jsn; did you mean --json?"],
      [["ring", "stats", "--vnode", "5"], "shardctl ring stats: unknown option --vnode; did you mean --vnodes?"],
    ];
    for (const [argv, first] of cases) {
      const r = await shardctl(...argv);
      // a message that lists the root's commands is checked up to the list
      const line = r.stderr.split("\n")[0]!;
      expect({ argv, code: r.code, first: first.endsWith("(one of ") ? line.slice(0, first.length) : line }).toEqual({ argv, code: 2, first });
    }
  });

  test("a command's summary is its help's first line; its details follow; the list of commands shows the summary alone", async () => {
    const root = (await shardctl("--help")).stdout.split("\n");
    const run = (await shardctl("help", "client", "run")).stdout.split("\n");
    const client = (await shardctl("help", "client")).stdout.split("\n");
    const summary = run[0]!;
    expect(summary).toBe("POST each record to its owner, GET it back and compare");
    expect(run[2]).toStartWith("POST each record to the node that owns its id");
    expect(client).toContain(`  run     ${summary}`);
    // every command of the root on one line of its own
    const commands = root.slice(root.indexOf("COMMANDS") + 2, root.indexOf("", root.indexOf("COMMANDS") + 2));
    expect(commands.map((l) => l.trim().split(/\s+/)[0])).toEqual(["serve", "router", "client", "ring", "status", "rebalance", "repair", "demo"]);
  });

  test("--json --json is bad usage like any option given twice", async () => {
    const r = await shardctl("client", "ring", "--json", "--json");
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toStartWith("shardctl client ring: --json is given more than once; give it once");
  });
});

describe("--version", () => {
  test("from source: the package version, the checkout's commit (as git says) and this Bun; --json has the same", async () => {
    const git = (...args: string[]) =>
      Bun.spawnSync(["git", "-C", join(import.meta.dir, "../.."), ...args])
        .stdout.toString()
        .trim();
    const head = git("rev-parse", "--short=12", "HEAD"); // empty outside a git checkout: the commit is unknown
    const commit = head ? head + (git("status", "--porcelain", "--untracked-files=no") ? "-dirty" : "") : null;
    const text = await shardctl("--version");
    expect([text.code, text.stdout]).toEqual([0, `shardctl ${pkg.version} (commit ${commit ?? "unknown"} from source, bun ${Bun.version})`]);
    const json = await shardctl("--version", "--json");
    expect(JSON.parse(json.stdout)).toEqual({ version: pkg.version, commit, bun: Bun.version, build: "source" });
    expect((await shardctl("-v", "--json", "--json")).code).toBe(2);
  });

  test("shardctl version is shardctl --version, as git, kubectl and docker have it", async () => {
    const version = await shardctl("version");
    expect([version.code, version.stderr]).toEqual([0, ""]);
    expect(version.stdout).toBe((await shardctl("--version")).stdout);
    expect((await shardctl("version", "--json")).stdout).toBe((await shardctl("--version", "--json")).stdout);
    const extra = await shardctl("version", "now");
    expect([extra.code, extra.stderr.split("\n")[0]]).toEqual([2, "shardctl: version (--version) takes only --json"]);
  });
});
