/**
 * Runs a citty command tree with the contract's exit statuses: 0 success, 1 the job
 * found a problem, 2 bad usage. citty's own runMain exits 1 for usage errors and lets
 * through what a user would call bad usage: unknown options, an option given twice
 * (the last value silently wins) and stray words (silently ignored). Those are
 * caught here, before the command runs.
 */
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { Interrupted, JobFailed, UsageError } from "./errors.ts";

type AnyCommand = CommandDef<any>;

export interface MainOptions {
  /** Printed after the root command's usage (examples, where to read more). */
  readonly epilogue?: string;
}

export async function main(root: AnyCommand, rawArgs: string[], options: MainOptions = {}): Promise<number> {
  // `shardctl help client run` is `shardctl client run --help`.
  if (rawArgs[0] === "help" && !("help" in ((await resolve(root.subCommands)) ?? {}))) {
    const words = rawArgs.slice(1);
    const known = (await findLeaf(root, words)).path.length === words.length;
    return main(root, known ? [...words, "--help"] : words, options);
  }
  const { cmd, rest, path } = await findLeaf(root, rawArgs);
  const name = ["shardctl", ...path].join(" ");
  const dashdash = rest.indexOf("--");
  const beforeDashdash = dashdash >= 0 ? rest.slice(0, dashdash) : rest;
  const flags = beforeDashdash.filter(isOption);

  if (flags.includes("--help") || flags.includes("-h")) {
    console.log((await usage(root, cmd, path, options.epilogue)) + "\n");
    return 0;
  }
  if (path.length === 0 && rest.length === 1 && (rest[0] === "--version" || rest[0] === "-v")) {
    console.log((await resolve(root.meta))?.version ?? "unknown");
    return 0;
  }
  const subs = await resolve(cmd.subCommands);
  if (subs && !cmd.run) {
    if (path.length === 0 && rest.length === 0) {
      console.log((await usage(root, cmd, path, options.epilogue)) + "\n");
      return 0;
    }
    const word = rest.find((a) => !a.startsWith("-"));
    const choices = Object.keys(subs).join(", ");
    return usageError(name, word === undefined ? `missing command: one of ${choices}` : `unknown command "${word}": one of ${choices}`);
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
      console.error(`${name}: ${e.message}`);
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

/** The command's usage with its whole path as its name (citty names it by its parent and itself only). */
async function usage(root: AnyCommand, cmd: AnyCommand, path: string[], epilogue = ""): Promise<string> {
  const parent = { meta: { ...(await resolve(root.meta)), name: ["shardctl", ...path.slice(0, -1)].join(" ") } };
  const text = await renderUsage(cmd, path.length === 0 ? undefined : parent);
  // citty pads every column and colours unconditionally: trim the padding, drop colour off a terminal.
  const plain = process.stdout.isTTY ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
  const tail = path.length === 0 && epilogue ? `\n\n${epilogue.trim()}` : "";
  return plain.split("\n").map((l) => l.trimEnd()).join("\n") + tail;
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

/** An unknown option, or one that takes a value given twice (citty would keep the last): the message, else undefined. */
function optionProblem(table: ReadonlyMap<string, OptionSpec>, flags: readonly string[]): string | undefined {
  const unknown = flags.find((flag) => !table.has(bare(flag)));
  if (unknown) return `unknown option ${unknown.split("=")[0]}`;
  const seen = new Set<string>();
  for (const flag of flags) {
    const spec = table.get(bare(flag))!;
    if (!spec.takesValue) continue;
    if (seen.has(spec.name)) return `${flag.split("=")[0]} is given more than once; give it once`;
    seen.add(spec.name);
  }
  return undefined;
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
