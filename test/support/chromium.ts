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

/** The DOM after the page's scripts ran for up to `budgetMs` of virtual time, in a window `width` x `height`. */
export function dumpDom(url: string, budgetMs = 10_000, { width = 1280, height = 800 } = {}): Promise<string> {
  return runChromium(url, [`--virtual-time-budget=${budgetMs}`, `--window-size=${width},${height}`, "--hide-scrollbars", "--dump-dom"]);
}

/**
 * How a page lays out in a window `width` x `height`, once its own script has run for
 * `afterMs`: the page is served again from a local harness (same origin, every other path
 * passed on to `url`) with a measuring script added, and read back from the DOM.
 */
export async function layoutOf(url: string, { width = 1280, height = 800, afterMs = 1500 } = {}): Promise<PageLayout> {
  const base = new URL(url);
  const html = await (await fetch(url)).text();
  const probe = `<script>setTimeout(() => {
  const root = document.documentElement;
  const svgs = [...document.querySelectorAll("svg")].map((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll("text")].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
    return { width: svg.getBoundingClientRect().width, smallestText: Math.min(...sizes) };
  });
  const texts = [...document.body.querySelectorAll("*")].filter((e) => !e.closest("svg") && e.childNodes.length && [...e.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim()));
  const measured = { innerWidth, scrollWidth: root.scrollWidth, svgs, smallestText: Math.min(...texts.map((e) => parseFloat(getComputedStyle(e).fontSize))) };
  const pre = document.createElement("pre");
  pre.id = "layout";
  pre.textContent = JSON.stringify(measured);
  document.body.appendChild(pre);
}, ${afterMs});</script>`;
  const harness = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (path === base.pathname) return new Response(html.replace("</body>", `${probe}</body>`), { headers: { "content-type": "text/html; charset=utf-8" } });
      return fetch(new URL(path, base));
    },
  });
  try {
    const dom = await dumpDom(`http://127.0.0.1:${harness.port}${base.pathname}`, afterMs + 3000, { width, height });
    const json = /<pre id="layout">([^<]*)<\/pre>/.exec(dom)?.[1];
    if (json === undefined) throw new Error(`the measuring script did not run on ${url}`);
    return JSON.parse(json.replaceAll("&quot;", '"').replaceAll("&amp;", "&")) as PageLayout;
  } finally {
    harness.stop(true);
  }
}

export interface PageLayout {
  readonly innerWidth: number;
  /** Wider than innerWidth: the page scrolls sideways. */
  readonly scrollWidth: number;
  /** Each SVG as drawn: its width and the smallest of its texts, in CSS px after scaling. */
  readonly svgs: readonly { width: number; smallestText: number }[];
  /** The smallest text of the page outside its SVGs, in CSS px. */
  readonly smallestText: number;
}

/** A PNG of the page, `width` x `height`, after its scripts ran for up to `budgetMs` of virtual time. */
export async function screenshot(url: string, file: string, { width = 1280, height = 800, budgetMs = 10_000 } = {}): Promise<void> {
  await runChromium(url, [`--virtual-time-budget=${budgetMs}`, `--window-size=${width},${height}`, "--hide-scrollbars", `--screenshot=${file}`]);
}
