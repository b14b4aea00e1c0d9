/**
 * Pages checked in a real browser: Debian's headless Chromium, started with no network
 * beyond the page (no background services, a profile of its own). Without chromium on
 * PATH the page tests skip saying why; under CI=true that is an error (.ci/run installs it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skipBecause } from "./skip.ts";

const binary = ["chromium", "chromium-browser", "google-chrome"].map((b) => Bun.which(b)).find(Boolean);

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(suite: string): string | undefined {
  return skipBecause(suite, binary ? undefined : "no chromium on PATH (apt-get install chromium); the page test needs a browser");
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Runs chromium once on `url` with `extra` flags in a fresh profile; its stdout. */
async function runChromium(url: string, extra: string[]): Promise<string> {
  if (!binary) throw new Error("no chromium on PATH");
  const profile = mkdtempSync(join(tmpdir(), "shardctl-chromium-"));
  try {
    const browser = Bun.spawn([binary, ...FLAGS, `--user-data-dir=${profile}`, ...extra, url], { stdout: "pipe", stderr: "ignore" });
    const out = await new Response(browser.stdout).text();
    const code = await browser.exited;
    if (code !== 0) throw new Error(`chromium exited with ${code} on ${url}`);
    return out;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM after the page's scripts ran for up to `budgetMs` of virtual time. */
export function dumpDom(url: string, budgetMs = 10_000): Promise<string> {
  return runChromium(url, [`--virtual-time-budget=${budgetMs}`, "--dump-dom"]);
}

/** A PNG of the page, `width` x `height`, after its scripts ran for up to `budgetMs` of virtual time. */
export async function screenshot(url: string, file: string, { width = 1280, height = 800, budgetMs = 10_000 } = {}): Promise<void> {
  await runChromium(url, [`--virtual-time-budget=${budgetMs}`, `--window-size=${width},${height}`, "--hide-scrollbars", `--screenshot=${file}`]);
}
