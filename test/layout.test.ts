/**
 * The direction of the arrows between the folders of src/ (docs/architecture.md):
 * commands -> features -> ports <- adapters, with ring/ at the bottom. Each rule names a
 * folder and the folders its files may not import; a new import across a boundary fails
 * here with the file and the import that crossed it.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const SRC = join(import.meta.dir, "..", "src");

/** Every .ts file under src/, as a path relative to src/. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [relative(SRC, join(dir, e.name))] : [],
  );
}

/** The project files `file` imports (static, dynamic and re-exports), relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) found.push(normalize(join(dirname(file), m[1]!)));
  return found;
}

const folderOf = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : "(top)");

/** folder -> what its files may not import: whole folders, or folders but for the files named. */
const RULES: Record<string, { forbidden: readonly string[]; except?: readonly string[] }> = {
  ring: { forbidden: ["*"] },
  expenses: { forbidden: ["http", "instance", "store", "router", "client", "rebalance", "commands", "cli-output"] },
  store: {
    forbidden: ["http", "instance", "router", "client", "rebalance", "commands", "cli-output"],
    // the ports the rebalance participant needs from a database, and the vocabulary of its phases
    except: ["rebalance/records.ts", "rebalance/protocol.ts"],
  },
  http: { forbidden: ["instance", "router", "client", "commands", "cli-output"] },
  instance: { forbidden: ["router", "client", "commands", "cli-output"] },
  client: { forbidden: ["http", "instance", "store", "router", "rebalance", "commands", "cli-output"] },
  rebalance: { forbidden: ["http", "instance", "store", "router", "commands", "cli-output"] },
  repair: { forbidden: ["http", "instance", "store", "router", "commands", "cli-output"] },
  router: { forbidden: ["store", "instance", "rebalance", "commands", "cli-output"] },
  "cli-output": { forbidden: ["http", "instance", "store", "router", "commands"] },
};

describe("the layout of src/", () => {
  const files = sources();

  test("every folder has a rule (a new folder needs one here and in docs/architecture.md)", () => {
    const folders = new Set(files.filter((f) => f.includes("/")).map(folderOf));
    const unruled = [...folders].filter((f) => !(f in RULES) && f !== "commands");
    expect(unruled).toEqual([]);
  });

  test("no line of src/ is longer than 160 characters (the formatter's width; long messages are concatenated)", () => {
    const long = files.flatMap((f) =>
      readFileSync(join(SRC, f), "utf8")
        .split("\n")
        .flatMap((line, i) => (line.length > 160 ? [`src/${f}:${i + 1} has ${line.length} characters`] : [])),
    );
    expect(long).toEqual([]);
  });

  for (const [folder, rule] of Object.entries(RULES)) {
    test(`${folder}/ imports ${rule.forbidden.includes("*") ? "nothing of the project outside itself" : `none of ${rule.forbidden.join(", ")}`}`, () => {
      const crossings = files
        .filter((f) => folderOf(f) === folder)
        .flatMap((f) => importsOf(f).map((target) => ({ file: f, target })))
        .filter(({ target }) => {
          const to = folderOf(target);
          if (to === folder || rule.except?.includes(target)) return false;
          return rule.forbidden.includes("*") || rule.forbidden.includes(to);
        })
        .map(({ file, target }) => `src/${file} imports src/${target}`);
      expect(crossings).toEqual([]);
    });
  }
});
