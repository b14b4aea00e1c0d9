import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { defineCommand } from "citty";
import { JobFailed, UsageError } from "../../src/errors.ts";
import { runCli } from "../../src/cli-runner.ts";

// A small real command tree: the runner is tested on its own, apart from the product's commands.
const seen: Record<string, unknown>[] = [];
const leaf = defineCommand({
  meta: { name: "leaf", description: "a leaf" },
  args: {
    count: { type: "string", description: "a number" },
    dryRun: { type: "boolean", description: "camel-cased flag" },
    word: { type: "positional", required: false },
  },
  run({ args }) {
    seen.push({ ...args });
    if (args.word === "usage") throw new UsageError("--count is wrong");
    if (args.word === "fail") throw new JobFailed("2 ids failed");
    if (args.word === "crash") throw new TypeError("a bug");
  },
});
const plain = defineCommand({
  meta: { name: "plain", description: "options only, no positional" },
  args: { ids: { type: "string" }, dryRun: { type: "boolean" }, mode: { type: "enum", options: ["a", "b"] } },
  run({ args }) {
    seen.push({ ...args });
  },
});
const need = defineCommand({
  meta: { name: "need", description: "a required positional" },
  args: { count: { type: "string" }, ids: { type: "positional", description: "One or more ids", required: true } },
  run({ args }) {
    seen.push({ ...args, _: [...args._] });
  },
});
const root = defineCommand({
  meta: { name: "tool", version: "9.9.9", description: "root" },
  subCommands: { group: defineCommand({ meta: { name: "group" }, subCommands: { leaf, plain, need } }) },
});

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  seen.length = 0;
  spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
});
afterEach(() => {
  (console.log as any).mockRestore();
  (console.error as any).mockRestore();
});

describe("runCli: exit statuses of the contract", () => {
  test("success is 0 and the leaf gets its arguments", async () => {
    expect(await runCli(root, ["group", "leaf", "--count", "3", "--dry-run", "x"])).toBe(0);
    expect(seen[0]).toMatchObject({ count: "3", dryRun: true, word: "x" });
  });

  test("UsageError is 2 with the message and a pointer to --help", async () => {
    expect(await runCli(root, ["group", "leaf", "usage"])).toBe(2);
    expect(err.join("\n")).toContain("shardctl group leaf: --count is wrong");
    expect(err.join("\n")).toContain('Run "shardctl group leaf --help"');
  });

  test("JobFailed is 1 with the message", async () => {
    expect(await runCli(root, ["group", "leaf", "fail"])).toBe(1);
    expect(err.join("\n")).toContain("2 ids failed");
  });

  test("an unexpected error is 1", async () => {
    expect(await runCli(root, ["group", "leaf", "crash"])).toBe(1);
  });

  test("an unknown option is 2 and the command does not run", async () => {
    expect(await runCli(root, ["group", "leaf", "--cuont", "3"])).toBe(2);
    expect(err.join("\n")).toContain("unknown option --cuont");
    expect(seen).toHaveLength(0);
  });

  test("a word that a command without positionals would ignore is 2, and the command does not run", async () => {
    expect(await runCli(root, ["group", "plain", "--ids", "1..3", "5..7"])).toBe(2);
    expect(err.join("\n")).toContain('shardctl group plain: unexpected argument "5..7"; ids go in --ids (e.g. --ids 5..7)');
    expect(await runCli(root, ["group", "plain", "--dry-run", "true"])).toBe(2);
    expect(err.join("\n")).toContain('shardctl group plain: unexpected argument "true"\n');
    expect(seen).toHaveLength(0);
  });

  test("option values are not taken for stray words", async () => {
    expect(await runCli(root, ["group", "plain", "--ids", "5..7", "--dry-run", "--mode", "b"])).toBe(0);
    expect(await runCli(root, ["group", "plain", "--ids=5..7", "--dryRun"])).toBe(0);
    expect(seen).toMatchObject([
      { ids: "5..7", dryRun: true, mode: "b" },
      { ids: "5..7", dryRun: true },
    ]);
  });

  test("a negative number is a value for the command to judge, not an unknown option", async () => {
    expect(await runCli(root, ["group", "leaf", "--count", "-3"])).toBe(0);
    expect(seen[0]).toMatchObject({ count: "-3" });
    expect(err.join("\n")).not.toContain("unknown option");
    expect(await runCli(root, ["group", "plain", "--ids", "1", "-5"])).toBe(2);
    expect(err.join("\n")).toContain('shardctl group plain: unexpected argument "-5"');
    expect(seen).toHaveLength(1);
  });

  test("a word like -1 reaches a command with positionals as a word, for it to judge", async () => {
    // citty alone reads -1 as an option: `need 1 -1` would see only "1", `need -1` no word at all
    expect(await runCli(root, ["group", "need", "-1"])).toBe(0);
    expect(await runCli(root, ["group", "need", "1", "--count", "3", "-1", "--", "-2"])).toBe(0);
    expect(seen).toMatchObject([
      { ids: "-1", _: ["-1"] },
      { ids: "1", count: "3", _: ["1", "-1", "-2"] },
    ]);
    expect(err).toEqual([]);
  });

  test("a missing required positional is 2, named with its description rather than citty's message", async () => {
    expect(await runCli(root, ["group", "need", "--count", "3"])).toBe(2);
    expect(err.join("\n")).toBe('shardctl group need: missing ids: one or more ids\nRun "shardctl group need --help" for usage.');
    expect(await runCli(root, ["group", "need", "--count"])).toBe(2);
    expect(seen).toHaveLength(0);
  });

  test("an option given twice is 2 rather than the last one silently winning, a flag too", async () => {
    expect(await runCli(root, ["group", "plain", "--ids", "1", "--ids=2"])).toBe(2);
    expect(err.join("\n")).toContain("shardctl group plain: --ids is given more than once; give it once");
    expect(await runCli(root, ["group", "leaf", "--count", "1", "--dry-run", "--dry-run"])).toBe(2);
    expect(err.join("\n")).toContain("shardctl group leaf: --dry-run is given more than once; give it once");
    expect(await runCli(root, ["group", "plain", "--dry-run", "--no-dry-run"])).toBe(2);
    expect(err.join("\n")).toContain("shardctl group plain: --no-dry-run is given more than once; give it once");
    expect(seen).toHaveLength(0);
  });

  test("options after -- are not checked", async () => {
    expect(await runCli(root, ["group", "leaf", "--", "--anything"])).toBe(0);
  });

  test("an unknown sub-command is 2 and lists the choices", async () => {
    expect(await runCli(root, ["group", "nope"])).toBe(2);
    expect(err.join("\n")).toBe('shardctl group: unknown command "nope" (one of leaf, plain, need)\nRun "shardctl group --help" for usage.');
    expect(await runCli(root, ["group", "--dry-run"])).toBe(2);
    expect(err.join("\n")).toContain("missing command: one of leaf, plain, need");
  });

  test("a near miss of a command or an option gets a did-you-mean", async () => {
    const said = async (argv: string[]) => {
      err.length = 0;
      expect(await runCli(root, argv)).toBe(2);
      return err[0]!.split("\n")[0];
    };
    expect(await said(["group", "plian"])).toBe('shardctl group: unknown command "plian"; did you mean "group plain"? (one of leaf, plain, need)');
    expect(await said(["group", "lef", "--count", "1"])).toBe('shardctl group: unknown command "lef"; did you mean "group leaf"? (one of leaf, plain, need)');
    // a command of another group, named alone
    expect(await said(["plain", "--ids", "1"])).toBe('shardctl: unknown command "plain"; did you mean "group plain"? (one of group)');
    expect(await said(["grop", "need", "1"])).toBe('shardctl: unknown command "grop"; did you mean "group need"? (one of group)');
    expect(await said(["group", "plain", "--idz", "1"])).toBe("shardctl group plain: unknown option --idz; did you mean --ids?");
    expect(await said(["group", "plain", "--dryrun"])).toBe("shardctl group plain: unknown option --dryrun; did you mean --dry-run?");
    // nothing near: no guess
    expect(await said(["group", "xyzzy"])).toBe('shardctl group: unknown command "xyzzy" (one of leaf, plain, need)');
    expect(await said(["group", "plain", "--colour"])).toBe("shardctl group plain: unknown option --colour");
    expect(seen).toHaveLength(0);
  });

  test("--help prints the leaf's usage and is 0", async () => {
    expect(await runCli(root, ["group", "leaf", "--help"])).toBe(0);
    expect(out.join("\n")).toContain("a number");
    expect(out.join("\n")).toContain("USAGE shardctl group leaf [OPTIONS]");
    expect(seen).toHaveLength(0);
  });

  test("help [command...] prints that command's usage and is 0, before or after a group's name", async () => {
    expect(await runCli(root, ["help", "group", "leaf"])).toBe(0);
    expect(out.join("\n")).toContain("USAGE shardctl group leaf [OPTIONS]");
    const viaHelp = out.join("\n");
    out.length = 0;
    expect(await runCli(root, ["group", "help", "leaf"])).toBe(0);
    expect(out.join("\n")).toBe(viaHelp);
    out.length = 0;
    expect(await runCli(root, ["group", "leaf", "--help"])).toBe(0);
    expect(out.join("\n")).toBe(viaHelp);
    out.length = 0;
    expect(await runCli(root, ["group", "help"])).toBe(0);
    expect(out.join("\n")).toContain("USAGE shardctl group leaf|plain|need");
    out.length = 0;
    expect(await runCli(root, ["help"])).toBe(0);
    expect(out.join("\n")).toContain("group");
    expect(await runCli(root, ["help", "nope"])).toBe(2);
    expect(err.join("\n")).toContain('unknown command "nope"');
    expect(seen).toHaveLength(0);
  });

  test("a group named alone, the root or another, prints its usage and is 0", async () => {
    expect(await runCli(root, [])).toBe(0);
    expect(out.join("\n")).toContain("USAGE tool group");
    out.length = 0;
    expect(await runCli(root, ["group"])).toBe(0);
    expect(out.join("\n")).toContain("USAGE shardctl group leaf|plain|need");
    expect(err).toEqual([]);
  });

  test("--version prints the version; with --json, as JSON; anything else with it is 2", async () => {
    expect(await runCli(root, ["--version"])).toBe(0);
    expect(await runCli(root, ["-v", "--json"])).toBe(0);
    expect(out).toEqual(["9.9.9", JSON.stringify({ version: "9.9.9" }, null, 2)]);
    const info = { text: "tool 9.9.9 (commit abc)", json: { version: "9.9.9", commit: "abc" } };
    expect(await runCli(root, ["--json", "--version"], { version: () => info })).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toEqual(info.json);
    expect(await runCli(root, ["--version", "--json", "--json"])).toBe(2);
    expect(err.join("\n")).toContain("--json is given more than once");
    expect(await runCli(root, ["--version", "--nodes", "x"])).toBe(2);
    expect(err.join("\n")).toContain("unknown option --nodes");
  });
});
