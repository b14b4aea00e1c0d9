/**
 * Runs a citty command tree with the exit statuses scripts rely on: 0 success, 1 the job
 * found a problem, 2 bad usage. citty's own runMain exits 1 for usage errors and lets
 * through what a user would call bad usage: unknown options, an option given twice
 * (the last value silently wins) and stray words (silently ignored). Those are
 * caught here, before the command runs, with a "did you mean" for near misses.
 *
 * Help: `shardctl help client run`, `shardctl client help run` and `shardctl client run
 * --help` are one thing; a command group named alone (`shardctl`, `shardctl client`)
 * prints its usage and exits 0. `shardctl version` is `shardctl --version`.
 */
import { runCommand, type ArgsDef, type CommandDef } from "citty";
import { renderUsage, type UsageEntry } from "./cli-output/usage.ts";
import { Interrupted, JobFailed, UsageError } from "./errors.ts";

// biome-ignore lint/suspicious/noExplicitAny: a command of any argument shape (CommandDef is invariant in it)
type AnyCommand = CommandDef<any>;

export interface RunCliOptions {
  /** Printed after the root command's usage: examples, a command line and what it does. */
  readonly examples?: readonly UsageEntry[];
  /** The root usage's last paragraph (where to read more). */
  readonly note?: string;
  /** `--version`: the line to print, and the object `--version --json` prints. Default: the root's meta.version. */
  readonly version?: () => { text: string; json: unknown };
}

export async function runCli(root: AnyCommand, rawArgs: string[], options: RunCliOptions = {}): Promise<number> {
  const { cmd, rest, path } = await findLeaf(root, rawArgs);
  const name = ["shardctl", ...path].join(" ");
  const subs = await resolve(cmd.subCommands);
  const isGroup = subs !== undefined && !cmd.run;
  // `shardctl help client run` and `shardctl client help run` are `shardctl client run --help`.
  if (isGroup && rest[0] === "help" && !("help" in subs)) {
    const target = [...path, ...rest.slice(1)];
    const known = (await findLeaf(root, target)).path.length === target.length;
    return runCli(root, known ? [...target, "--help"] : target, options);
  }
  // `shardctl version` is `shardctl --version`, as git, kubectl and docker have it.
  if (path.length === 0 && rest[0] === "version" && !(subs && "version" in subs)) return runCli(root, ["--version", ...rest.slice(1)], options);
  const dashdash = rest.indexOf("--");
  const beforeDashdash = dashdash >= 0 ? rest.slice(0, dashdash) : rest;
  const flags = beforeDashdash.filter(isOption);

  if (flags.includes("--help") || flags.includes("-h")) {
    console.log(`${await usage(cmd, path, options)}\n`);
    return 0;
  }
  if (path.length === 0 && rest.some((a) => a === "--version" || a === "-v")) {
    const problem = optionProblem(VERSION_OPTIONS, flags);
    if (problem || rest.some((a) => !isOption(a))) return usageError(name, problem ?? "version (--version) takes only --json");
    const fallback = String((await resolve(root.meta))?.version ?? "unknown");
    const v = options.version?.() ?? { text: fallback, json: { version: fallback } };
    console.log(flags.includes("--json") ? JSON.stringify(v.json, null, 2) : v.text);
    return 0;
  }
  if (isGroup) {
    if (rest.length === 0) {
      console.log(`${await usage(cmd, path, options)}\n`);
      return 0;
    }
    const word = rest.find((a) => !isOption(a));
    const choices = Object.keys(subs).join(", ");
    if (word === undefined) return usageError(name, `missing command: one of ${choices}`);
    const guess = await commandGuess(root, path, word, rest.slice(rest.indexOf(word) + 1));
    return usageError(name, `unknown command "${word}"${guess ? `; did you mean "${guess}"?` : ""} (one of ${choices})`);
  }

  const args: ArgsDef = (await resolve(cmd.args)) ?? {};
  const table = optionTable(args);
  const problem = optionProblem(table, flags);
  if (problem) return usageError(name, problem);
  const { words, options: optionTokens } = splitWords(table, beforeDashdash);
  const positionals = Object.entries(args).filter(([, def]) => def.type === "positional");
  let leafArgs = rest;
  if (positionals.length === 0) {
    const stray = words[0];
    if (stray !== undefined) {
      const hint = "ids" in args && /^[\d.,]+$/.test(stray) ? `; ids go in --ids (e.g. --ids ${stray})` : "";
      return usageError(name, `unexpected argument "${stray}"${hint}`);
    }
  } else {
    // citty would read a word like -1 as an option; after "--" it takes words as they
    // are, so the command itself judges them (and names the bad id).
    const given = [...words, ...(dashdash >= 0 ? rest.slice(dashdash + 1) : [])];
    const missing = positionals.filter(([, def]) => def.required !== false && def.default === undefined)[given.length];
    if (missing) {
      const [argName, def] = missing;
      const what = def.description ? `: ${def.description.charAt(0).toLowerCase()}${def.description.slice(1)}` : "";
      return usageError(name, `missing ${argName}${what}`);
    }
    leafArgs = [...optionTokens, "--", ...given];
  }

  try {
    await runCommand(cmd, { rawArgs: leafArgs });
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e instanceof Error && e.name === "CLIError")) return usageError(name, e.message);
    if (e instanceof JobFailed || e instanceof Interrupted) {
      if (!(e instanceof JobFailed && e.reported)) console.error(`${name}: ${e.message}`);
      return e.exitCode;
    }
    console.error(e);
    return 1;
  }
}

async function resolve<T>(v: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** Walks the sub-command names at the front of rawArgs: the leaf command, its own args, the names walked. */
async function findLeaf(root: AnyCommand, rawArgs: string[]) {
  let cmd = root;
  let rest = rawArgs;
  const path: string[] = [];
  for (;;) {
    const subs = await resolve(cmd.subCommands);
    const first = rest[0];
    if (!subs || first === undefined || first.startsWith("-") || !(first in subs)) break;
    cmd = (await resolve(subs[first]))!;
    path.push(first);
    rest = rest.slice(1);
  }
  return { cmd, rest, path };
}

/** The command's usage with its whole path as its name; the root's with its version, examples and note. */
async function usage(cmd: AnyCommand, path: string[], options: RunCliOptions): Promise<string> {
  const meta = (await resolve(cmd.meta)) ?? {};
  const args: ArgsDef = (await resolve(cmd.args)) ?? {};
  const subs = (await resolve(cmd.subCommands)) ?? {};
  const positionals: UsageEntry[] = [];
  const flags: UsageEntry[] = [];
  const synopsis: string[] = [];
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") {
      const required = def.required !== false && def.default === undefined;
      positionals.push({ label: name.toUpperCase(), description: def.description ?? "" });
      synopsis.push(required ? `<${name.toUpperCase()}>` : `[${name.toUpperCase()}]`);
      continue;
    }
    const hint = def.type === "string" || def.type === "enum" ? `=<${def.valueHint ?? name.toUpperCase()}>` : "";
    const aliases = [(def as { alias?: string | string[] }).alias ?? []].flat().map((a) => `-${a}`);
    flags.push({ label: [...aliases, `--${name}`].join(", ") + hint, description: def.description ?? "" });
  }
  const commands: UsageEntry[] = [];
  for (const [name, sub] of Object.entries(subs)) {
    const subMeta = await resolve((await resolve(sub))?.meta);
    if (!subMeta?.hidden) commands.push({ label: name, description: subMeta?.description ?? "" });
  }
  if (flags.length > 0 || positionals.length > 0) synopsis.unshift("[OPTIONS]");
  if (commands.length > 0) synopsis.push(commands.map((c) => c.label).join("|"));
  const isRoot = path.length === 0;
  return renderUsage({
    name: isRoot ? String(meta.name ?? "shardctl") : ["shardctl", ...path].join(" "),
    version: isRoot ? String(meta.version ?? "") || undefined : undefined,
    description: meta.description ?? "",
    synopsis: synopsis.join(" "),
    positionals,
    options: flags,
    commands,
    ...(isRoot && { examples: options.examples, note: options.note }),
  });
}

interface OptionSpec {
  /** The option's name in the command's args. */
  readonly name: string;
  /** A string or enum option: the next token is its value unless written `--opt=value`. */
  readonly takesValue: boolean;
}

/** Every spelling of every option (its name, kebab-cased, aliases, `no-` forms of booleans, help), to its option. */
function optionTable(args: ArgsDef): Map<string, OptionSpec> {
  const help: OptionSpec = { name: "help", takesValue: false };
  const table = new Map<string, OptionSpec>([
    ["help", help],
    ["h", help],
  ]);
  const spellings = (name: string, alias?: string | string[]) => [
    name,
    name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
    ...(alias === undefined ? [] : [alias].flat()),
  ];
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const spec: OptionSpec = { name, takesValue: def.type === "string" || def.type === "enum" };
    for (const s of spellings(name, (def as { alias?: string | string[] }).alias)) table.set(s, spec);
    if (def.type === "boolean") for (const s of spellings(name)) table.set(`no-${s}`, spec);
  }
  return table;
}

/** `--ids=1..3` -> `ids`. */
const bare = (flag: string) => flag.replace(/^--?/, "").split("=")[0]!;

/**
 * An unknown option (with the nearest known one), or one given twice, a flag too (citty
 * would keep the last): the message, else undefined.
 */
function optionProblem(table: ReadonlyMap<string, OptionSpec>, flags: readonly string[]): string | undefined {
  const unknown = flags.find((flag) => !table.has(bare(flag)));
  if (unknown) {
    // Long spellings as the help shows them (kebab-case, not the camelCase alias citty also takes).
    const guess = closest(
      bare(unknown),
      [...table.keys()].filter((k) => k.length > 1 && k === k.toLowerCase()),
    );
    return `unknown option ${unknown.split("=")[0]}${guess ? `; did you mean --${guess}?` : ""}`;
  }
  const seen = new Set<string>();
  for (const flag of flags) {
    const spec = table.get(bare(flag))!;
    if (seen.has(spec.name)) return `${flag.split("=")[0]} is given more than once; give it once`;
    seen.add(spec.name);
  }
  return undefined;
}

/** The options `shardctl --version` takes. */
const VERSION_OPTIONS = optionTable({
  version: { type: "boolean", alias: "v" },
  json: { type: "boolean" },
});

/**
 * The command a mistyped `word` (after the group `path`) most likely meant, as its full
 * path: a near miss of a sibling (`ring shw` -> `ring show`, then the rest of the words
 * when they name its sub-command), or a command of that name in another group
 * (`shardctl show` -> `ring show`).
 */
async function commandGuess(root: AnyCommand, path: string[], word: string, after: string[]): Promise<string | undefined> {
  const all = await commandPaths(root);
  const siblings = all.filter((p) => p.length === path.length + 1 && path.every((w, i) => p[i] === w));
  const near = closest(
    word,
    siblings.map((p) => p.at(-1)!),
  );
  if (near) {
    const guess = [...path, near];
    const next = after.find((a) => !isOption(a));
    if (next !== undefined && all.some((p) => p.length === guess.length + 1 && p.at(-1) === next && guess.every((w, i) => p[i] === w))) guess.push(next);
    return guess.join(" ");
  }
  const elsewhere = all.filter((p) => p.at(-1) === word || closest(word, [p.at(-1)!]) !== undefined);
  return elsewhere.length === 1 ? elsewhere[0]!.join(" ") : undefined;
}

/** Every command's path below the root: [["serve"], ["client"], ["client", "run"], ...]. */
async function commandPaths(cmd: AnyCommand, path: string[] = []): Promise<string[][]> {
  const subs = (await resolve(cmd.subCommands)) ?? {};
  const out: string[][] = [];
  for (const [word, sub] of Object.entries(subs)) {
    out.push([...path, word], ...(await commandPaths((await resolve(sub))!, [...path, word])));
  }
  return out;
}

/**
 * The candidate nearest to `word` by edit distance (a letter added, dropped, changed, or
 * two swapped), when it is near enough to be a typo: 1 for short words, 2 from 5 letters.
 */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = word.length < 5 ? 1 : 2;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Whether a token is an option (`--json`, `-h`, `--ids=1..3`) rather than a word: `-` is
 * stdin and `-1` a negative number (the value of `--retries -1`, which the command then
 * rejects by name).
 */
function isOption(token: string): boolean {
  return token.startsWith("-") && token !== "-" && !/^-\d/.test(token);
}

/** `tokens` split into its words (not an option nor an option's value) and its options with their values, in order. */
function splitWords(table: ReadonlyMap<string, OptionSpec>, tokens: readonly string[]): { words: string[]; options: string[] } {
  const words: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!isOption(token)) words.push(token);
    else if (token.includes("=") || !table.get(bare(token))?.takesValue) options.push(token);
    else if (i + 1 < tokens.length) options.push(token, tokens[++i]!);
    else options.push(`${token}=`); // no value: empty, as citty reads it at the end
  }
  return { words, options };
}

function usageError(name: string, message: string): number {
  console.error(`${name}: ${message}\nRun "${name} --help" for usage.`);
  return 2;
}
