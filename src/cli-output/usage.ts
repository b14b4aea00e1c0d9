/**
 * The text of `--help`: a command's description, its usage line, its arguments, options
 * and sub-commands, wrapped at words to the terminal's width (80 off a terminal).
 *
 * A command's description is its summary line, then (after a blank line) its details:
 * a list of commands shows the summary alone, one line each; the command's own help
 * shows both.
 */
import { terminalWidth } from "./table.ts";
import { wrap } from "./words.ts";

export interface UsageEntry {
  /** `--nodes=<LIST>`, `IDS`, `serve`. */
  readonly label: string;
  readonly description: string;
}

export interface Usage {
  /** `shardctl client run`. */
  readonly name: string;
  /** Shown beside the root's name. */
  readonly version?: string;
  readonly description: string;
  /** After the name on the usage line: `[OPTIONS] <IDS>`, `serve|router|client`. */
  readonly synopsis: string;
  readonly positionals: readonly UsageEntry[];
  readonly options: readonly UsageEntry[];
  /** Sub-commands with their descriptions (their summary is shown). */
  readonly commands: readonly UsageEntry[];
  /** The root's examples: a command line and what it does. */
  readonly examples?: readonly UsageEntry[];
  /** A paragraph at the very end. */
  readonly note?: string;
}

/** The first line of a description: what a list of commands shows. */
export function summaryOf(description: string): string {
  return description.split("\n")[0]!.trim();
}

/** Labels wider than this put their description on the next line. */
const MAX_LABEL = 32;

/** Entries as `  label  description`, descriptions in one column and wrapped under themselves. */
function entries(list: readonly UsageEntry[], width: number, describe: (e: UsageEntry) => string): string[] {
  const labelWidth = Math.min(MAX_LABEL, Math.max(...list.map((e) => Bun.stringWidth(e.label))));
  const at = 2 + labelWidth + 2;
  return list.flatMap((e) => {
    const text = describe(e);
    const label = `  ${e.label}`;
    const [head, ...rest] = wrap(text, width, { indent: at, first: at });
    if (Bun.stringWidth(e.label) > labelWidth) return [label, `${" ".repeat(at)}${head}`, ...rest];
    return [`${label}${" ".repeat(at - Bun.stringWidth(label))}${head}`.trimEnd(), ...rest];
  });
}

export function renderUsage(usage: Usage, width = terminalWidth()): string {
  const out: string[] = [];
  const [summary = "", ...details] = usage.description.split(/\n\s*\n/).map((p) => p.trim());
  const title = usage.version ? `${usage.name} ${usage.version}: ${summary}` : summary;
  if (title !== "") out.push(...wrap(title, width), "");
  for (const paragraph of details) out.push(...wrap(paragraph, width), "");
  out.push(...wrap(`USAGE ${usage.name} ${usage.synopsis}`.trimEnd(), width, { indent: 6 }));
  if (usage.positionals.length > 0) out.push("", "ARGUMENTS", "", ...entries(usage.positionals, width, (e) => e.description));
  if (usage.options.length > 0) out.push("", "OPTIONS", "", ...entries(usage.options, width, (e) => e.description));
  if (usage.commands.length > 0) {
    out.push("", "COMMANDS", "", ...entries(usage.commands, width, (e) => summaryOf(e.description)));
    out.push("", ...wrap(`A command's options and details: ${usage.name} help COMMAND`, width));
  }
  if (usage.examples?.length) out.push("", "EXAMPLES", "", ...entries(usage.examples, width, (e) => e.description));
  if (usage.note) out.push("", ...wrap(usage.note, width));
  return out.join("\n");
}
