/**
 * Runs a citty command tree with the contract's exit statuses (citty's own runMain
 * exits 1 for usage errors): 0 success, 1 the job found a problem, 2 bad usage.
 * It also rejects unknown flags, which citty silently ignores.
 */
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { JobFailed, UsageError } from "./errors.ts";

type AnyCommand = CommandDef<any>;

async function resolve<T>(v: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** Walks the sub-command names at the front of rawArgs: the leaf command and its own args. */
async function findLeaf(root: AnyCommand, rawArgs: string[]) {
  let cmd = root;
  let rest = rawArgs;
  const path: string[] = [];
  for (;;) {
    const subs = await resolve(cmd.subCommands);
    const first = rest.find((a) => !a.startsWith("-"));
    if (!subs || first === undefined || rest[0] !== first || !(first in subs)) break;
    cmd = (await resolve(subs[first]))!;
    path.push(first);
    rest = rest.slice(1);
  }
  return { cmd, rest, path };
}

/** The spellings of an option on the command line: its name, kebab-cased, and its aliases. */
function optionNames(name: string, def: ArgsDef[string]): string[] {
  const alias = (def as { alias?: string | string[] }).alias;
  return [name, name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...(alias === undefined ? [] : [alias].flat())];
}

interface OptionSpec {
  /** The option's name in the command's args. */
  readonly name: string;
  /** A string or enum option: the next token is its value unless written `--opt=value`. */
  readonly takesValue: boolean;
}

/** Every spelling of every option of `args` (see optionNames; `no-` forms of booleans; help), to its option. */
function optionTable(args: ArgsDef): Map<string, OptionSpec> {
  const help: OptionSpec = { name: "help", takesValue: false };
  const table = new Map<string, OptionSpec>([
    ["help", help],
    ["h", help],
  ]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const spec: OptionSpec = { name, takesValue: def.type === "string" || def.type === "enum" };
    for (const n of optionNames(name, def)) table.set(n, spec);
    if (def.type === "boolean") for (const n of optionNames(name, {})) table.set(`no-${n}`, spec);
  }
  return table;
}

/**
 * Whether a token is an option (`--json`, `-h`, `--ids=1..3`) rather than a word: `-` is
 * stdin and `-1` a negative number (the value of `--retries -1`, which the command then
 * rejects by name), not unknown options.
 */
function isOption(token: string): boolean {
  return token.startsWith("-") && token !== "-" && !/^-\d/.test(token);
}

/**
 * `tokens` split into its words (neither an option nor the value of an option that takes
 * one) and its options with their values, each in order.
 */
function splitWords(options: ReadonlyMap<string, OptionSpec>, tokens: readonly string[]): { words: string[]; options: string[] } {
  const words: string[] = [];
  const optionTokens: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (isOption(token)) {
      const bare = token.replace(/^--?/, "");
      if (bare.includes("=") || !options.get(bare)?.takesValue) optionTokens.push(token);
      else if (i + 1 < tokens.length) optionTokens.push(token, tokens[++i]!); // its value is the next token
      else optionTokens.push(`${token}=`); // no value: empty, as citty reads it at the end
      continue;
    }
    words.push(token);
  }
  return { words, options: optionTokens };
}

/** The first option that takes a value and occurs more than once in `flags`, as written. */
function repeatedOption(options: ReadonlyMap<string, OptionSpec>, flags: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const flag of flags) {
    const spec = options.get(flag.replace(/^--?/, "").split("=")[0]!);
    if (!spec?.takesValue) continue;
    if (seen.has(spec.name)) return flag.split("=")[0]!;
    seen.add(spec.name);
  }
  return undefined;
}

export interface MainOptions {
  /** Printed after the root command's usage (examples, where to read more). */
  readonly epilogue?: string;
}

export async function main(root: AnyCommand, rawArgs: string[], options: MainOptions = {}): Promise<number> {
  // `shardctl help client run` is `shardctl client run --help`.
  if (rawArgs[0] === "help" && !("help" in ((await resolve(root.subCommands)) ?? {}))) {
    const words = rawArgs.slice(1);
    // A word that names no command: the usual "unknown command" error.
    if ((await findLeaf(root, words)).path.length < words.length) return main(root, words, options);
    return main(root, [...words, "--help"], options);
  }
  const { cmd, rest, path } = await findLeaf(root, rawArgs);
  const name = ["shardctl", ...path].join(" ");
  const epilogue = path.length === 0 && options.epilogue ? `\n\n${options.epilogue.trim()}` : "";
  // citty names a command by its parent's name and its own; give it the whole path.
  const prefix = { meta: { ...(await resolve(root.meta)), name: ["shardctl", ...path.slice(0, -1)].join(" ") } };
  const usage = async () =>
    tidy(await renderUsage(cmd, path.length === 0 ? undefined : prefix), process.stdout.isTTY === true) + epilogue;
  const dashdash = rest.indexOf("--");
  const beforeDashdash = dashdash >= 0 ? rest.slice(0, dashdash) : rest;
  const flags = beforeDashdash.filter(isOption);

  if (flags.includes("--help") || flags.includes("-h")) {
    console.log((await usage()) + "\n");
    return 0;
  }
  if (path.length === 0 && rest.length === 1 && (rest[0] === "--version" || rest[0] === "-v")) {
    const meta = await resolve(root.meta);
    console.log(meta?.version ?? "unknown");
    return 0;
  }
  const subs = await resolve(cmd.subCommands);
  if (subs && !cmd.run) {
    const word = rest.find((a) => !a.startsWith("-"));
    if (word === undefined && path.length === 0 && rest.length === 0) {
      console.log((await usage()) + "\n");
      return 0;
    }
    const choices = Object.keys(subs).join(", ");
    return usageError(
      name,
      word === undefined ? `missing command: one of ${choices}` : `unknown command "${word}": one of ${choices}`,
    );
  }
  const args: ArgsDef = (await resolve(cmd.args)) ?? {};
  const optionSpecs = optionTable(args);
  for (const flag of flags) {
    const bare = flag.replace(/^--?/, "").split("=")[0]!;
    if (!optionSpecs.has(bare)) return usageError(name, `unknown option ${flag.split("=")[0]}`);
  }
  // citty keeps only the last value of an option given twice: `ring diff --remove a --remove b`
  // would remove b alone and succeed. An option that takes a value is given once.
  const repeated = repeatedOption(optionSpecs, flags);
  if (repeated) return usageError(name, `${repeated} is given more than once; give it once`);
  const { words, options: optionTokens } = splitWords(optionSpecs, beforeDashdash);
  const wanted = Object.entries(args).filter(([, def]) => def.type === "positional");
  let leafArgs = rest;
  if (wanted.length === 0) {
    // citty ignores words a command has no positional for: `client verify 5..7` would
    // check the default ids and succeed. Such a word is bad usage.
    const stray = words[0];
    if (stray !== undefined) {
      const hint = "ids" in args && /^[\d.,]+$/.test(stray) ? `; ids go in --ids (e.g. --ids ${stray})` : "";
      return usageError(name, `unexpected argument "${stray}"${hint}`);
    }
  } else {
    // citty reads a word like -1 as an option: `ring show 1 -1` showed id 1 alone, and
    // `ring show -1` said "Missing required positional argument: IDS". After "--" citty
    // takes words as they are, so the command judges them (and names the bad id).
    const given = [...words, ...(dashdash >= 0 ? rest.slice(dashdash + 1) : [])];
    const required = wanted.filter(([, def]) => def.required !== false && def.default === undefined);
    const missing = required[given.length];
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
    if (e instanceof UsageError || (e instanceof Error && e.name === "CLIError")) {
      return usageError(name, e.message);
    }
    if (e instanceof JobFailed) {
      console.error(`${name}: ${e.message}`);
      return 1;
    }
    console.error(e);
    return 1;
  }
}

/** citty pads every column and colours unconditionally: trim the padding, drop colour off a terminal. */
function tidy(text: string, colour: boolean): string {
  const plain = colour ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
  return plain
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}

function usageError(name: string, message: string): number {
  console.error(`${name}: ${message}\nRun "${name} --help" for usage.`);
  return 2;
}
