/**
 * What this shardctl is: the package version, the git commit and the Bun it runs on.
 * `npm run build` bakes them in (--define, scripts/build.ts); run from source, the
 * commit is asked of git when wanted.
 */
import pkg from "../package.json" with { type: "json" };

declare const SHARDCTL_VERSION: string | undefined;
declare const SHARDCTL_COMMIT: string | undefined;
declare const SHARDCTL_BUN: string | undefined;

export const VERSION: string = typeof SHARDCTL_VERSION === "string" ? SHARDCTL_VERSION : pkg.version;

export interface VersionInfo {
  readonly version: string;
  /** The commit built (`-dirty` with uncommitted changes); null when unknown (no git at build time). */
  readonly commit: string | null;
  readonly bun: string;
  /** `binary`: the compiled dist/shardctl; `source`: bun src/cli.ts. */
  readonly build: "binary" | "source";
}

export function versionInfo(): VersionInfo {
  if (typeof SHARDCTL_COMMIT === "string") {
    return { version: VERSION, commit: SHARDCTL_COMMIT || null, bun: typeof SHARDCTL_BUN === "string" ? SHARDCTL_BUN : Bun.version, build: "binary" };
  }
  return { version: VERSION, commit: gitCommit(import.meta.dir), bun: Bun.version, build: "source" };
}

/** `1a2b3c4d5e6f`, with `-dirty` when the tree has uncommitted changes; null without git or outside a checkout. */
export function gitCommit(dir: string): string | null {
  const git = (...args: string[]) => {
    try {
      const r = Bun.spawnSync(["git", "-C", dir, ...args], { stdout: "pipe", stderr: "ignore" });
      return r.exitCode === 0 ? r.stdout.toString().trim() : undefined;
    } catch {
      return undefined; // no git on PATH
    }
  };
  const head = git("rev-parse", "--short=12", "HEAD");
  if (!head) return null;
  return git("status", "--porcelain", "--untracked-files=no") ? `${head}-dirty` : head;
}

/** `shardctl 0.1.0 (commit 1a2b3c4d5e6f, bun 1.4.5)`. */
export function describeVersion(v: VersionInfo): string {
  const from = v.build === "source" ? " from source" : "";
  return `shardctl ${v.version} (commit ${v.commit ?? "unknown"}${from}, bun ${v.bun})`;
}
