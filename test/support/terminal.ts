/**
 * `shardctl` as a person sees it: run as a process on a pseudo-terminal of a given width
 * (Bun.spawn's `terminal`), so that it finds a real terminal on stdout and stderr; or with
 * both going to pipes, as a script or `| less` sees it. The terminal's text comes back as
 * lines, colour codes and carriage returns taken out.
 */
import { join } from "node:path";

const CLI = join(import.meta.dir, "../../src/cli.ts");

export interface Recorded {
  readonly code: number;
  /** Everything the terminal showed (stdout and stderr as they came), line by line. */
  readonly lines: string[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences start with ESC
const CONTROL = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** What the terminal shows: control sequences out, `\r\n` as `\n`, a line redrawn after `\r` as its last drawing. */
export function screenText(raw: string): string[] {
  return raw
    .replace(CONTROL, "")
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => line.split("\r").at(-1)!)
    .map((line) => line.trimEnd());
}

/** `shardctl <argv>` on a terminal `cols` wide; resolves once it has exited and the terminal has given all its text. */
export async function onTerminal(
  argv: readonly string[],
  { cols, rows = 60, env = {} }: { cols: number; rows?: number; env?: Record<string, string> },
): Promise<Recorded> {
  let raw = "";
  const decoder = new TextDecoder();
  let closed!: () => void;
  const eof = new Promise<void>((resolve) => (closed = resolve));
  const proc = Bun.spawn([process.execPath, CLI, ...argv], {
    env: { ...process.env, ...env },
    terminal: {
      cols,
      rows,
      data: (_terminal, data) => {
        raw += decoder.decode(data, { stream: true });
      },
      exit: () => closed(),
    },
  });
  const code = await proc.exited;
  await Promise.race([eof, Bun.sleep(2000)]);
  proc.terminal?.close();
  return { code, lines: screenText(raw + decoder.decode()) };
}

/** `shardctl <argv>` with stdout and stderr on pipes (no terminal). */
export async function offTerminal(argv: readonly string[], { env = {} }: { env?: Record<string, string> } = {}) {
  const proc = Bun.spawn([process.execPath, CLI, ...argv], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** The widest line, as a terminal counts columns. */
export const widest = (lines: readonly string[]) => Math.max(0, ...lines.map((l) => Bun.stringWidth(l)));
