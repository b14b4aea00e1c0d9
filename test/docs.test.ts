/**
 * The docs hold together: every relative link of README.md, CONTRIBUTING.md, bench/README.md and
 * docs/ names a file that exists and, with a #fragment, a heading of that file (as GitHub makes
 * anchors of headings); every path of the repository they quote (`src/...`, `test/...`, a file of
 * src/ named from its folder) exists; README.md stays the front door.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SRC_FOLDERS = new Set(readdirSync(join(ROOT, "src"), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name] : [])));

const markdownUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
  );

const PAGES = ["README.md", "CONTRIBUTING.md", "bench/README.md", ...markdownUnder("docs")];

/** The lines of a page outside fenced code blocks, with their numbers. */
function prose(page: string): { line: string; n: number }[] {
  let fenced = false;
  return readFileSync(join(ROOT, page), "utf8")
    .split("\n")
    .flatMap((line, i) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return [];
      }
      return fenced ? [] : [{ line, n: i + 1 }];
    });
}

/** A heading's anchor as GitHub makes it: the text without markup, lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/ /g, "-");
}

/** The anchors of a page's headings, a repeated one numbered as GitHub numbers it (-1, -2, ...). */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { line } of prose(page)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const count = seen.get(base) ?? 0;
    anchors.add(count === 0 ? base : `${base}-${count}`);
    seen.set(base, count + 1);
  }
  return anchors;
}

/** Inline code spans and links of a line, with the inline code taken out before links are looked for. */
function spansOf(line: string): { code: string[]; links: string[] } {
  const code = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const bare = line.replace(/`[^`]*`/g, "``");
  const links = [...bare.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  return { code, links };
}

describe("the docs", () => {
  test("every page to check exists, docs/ included", () => {
    expect(PAGES.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
    expect(PAGES.filter((p) => p.startsWith("docs/")).length).toBeGreaterThan(5);
  });

  test("every relative link names a file that exists, and a heading of it when it has a #fragment", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const { line, n } of prose(page)) {
        for (const target of spansOf(line).links) {
          if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
          const [path, fragment] = target.split("#", 2) as [string, string | undefined];
          const file = path === "" ? page : normalize(join(dirname(page), path));
          const where = `${page}:${n}: ${target}`;
          if (!existsSync(join(ROOT, file))) broken.push(`${where}: no file ${file}`);
          else if (fragment !== undefined) {
            if (statSync(join(ROOT, file)).isDirectory() || !file.endsWith(".md")) broken.push(`${where}: an anchor in a file that is not a page`);
            else if (!anchorsOf(file).has(fragment)) broken.push(`${where}: no heading of ${file} has the anchor #${fragment}`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });

  test("every path of the repository they quote exists (src/, test/, bench/, scripts/, docs/, and src/ files named from their folder)", () => {
    const missing: string[] = [];
    for (const page of PAGES) {
      for (const { line, n } of prose(page)) {
        for (const code of spansOf(line).code) {
          if (!/^[\w.-]+(\/[\w.-]+)*\/?$/.test(code) || code.includes("..") || !code.includes("/")) continue;
          const first = code.slice(0, code.indexOf("/"));
          const path = ["src", "test", "bench", "scripts", "docs"].includes(first)
            ? code
            : SRC_FOLDERS.has(first) && page === "docs/architecture.md"
              ? `src/${code}`
              : undefined;
          if (path !== undefined && !existsSync(join(ROOT, path))) missing.push(`${page}:${n}: ${code} (${relative(ROOT, join(ROOT, path))})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test("README.md is the front door: under 300 lines, and every page of docs/ is linked from it", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(300);
    const linked = new Set(prose("README.md").flatMap(({ line }) => spansOf(line).links.map((l) => normalize(l.split("#")[0]!))));
    expect(PAGES.filter((p) => p.startsWith("docs/") && !linked.has(p))).toEqual([]);
  });

  test("the anchors are GitHub's", () => {
    expect(slug("The router: `shardctl router`")).toBe("the-router-shardctl-router");
    expect(slug("`shardctl ring diff --add NAME=HOST:PORT[:WEIGHT] | --remove NAME`")).toBe("shardctl-ring-diff---add-namehostportweight----remove-name");
    expect(slug("Choosing the nodes: flags, ring file, environment")).toBe("choosing-the-nodes-flags-ring-file-environment");
    expect(slug("Metrics, status and the hot path (issue 10)")).toBe("metrics-status-and-the-hot-path-issue-10");
    expect(slug("The router's hop: `npm run bench:router`")).toBe("the-routers-hop-npm-run-benchrouter");
  });
});
