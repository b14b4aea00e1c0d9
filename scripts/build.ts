/**
 * `npm run build`: compiles src/cli.ts into one self-contained binary, dist/shardctl,
 * with the package version, the git commit (SHARDCTL_COMMIT overrides it, e.g. in an
 * image built without .git) and the Bun version baked in (`shardctl --version`). The SQL
 * migrations are string constants in src/store/{mysql,sqlite}/migrations.ts, so they
 * travel inside the binary with the code.
 */
import pkg from "../package.json" with { type: "json" };
import { gitCommit } from "../src/version.ts";

const outfile = process.argv[2] ?? "dist/shardctl";
const commit = process.env.SHARDCTL_COMMIT ?? gitCommit(import.meta.dir) ?? "";
const proc = Bun.spawnSync(
  [
    process.execPath,
    "build",
    "src/cli.ts",
    "--compile",
    "--minify",
    "--sourcemap",
    "--bytecode",
    "--format=esm", // the entry uses top-level await; --bytecode defaults to cjs
    `--define=SHARDCTL_VERSION=${JSON.stringify(pkg.version)}`,
    `--define=SHARDCTL_COMMIT=${JSON.stringify(commit)}`,
    `--define=SHARDCTL_BUN=${JSON.stringify(Bun.version)}`,
    `--outfile=${outfile}`,
  ],
  { stdout: "inherit", stderr: "inherit" },
);
process.exit(proc.exitCode ?? 1);
