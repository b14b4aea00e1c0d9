/**
 * `npm run build`: compiles src/cli.ts into one self-contained binary, dist/shardctl,
 * with the package version baked in. SQL migrations are imported as text, so they
 * travel inside the binary.
 */
import pkg from "../package.json" with { type: "json" };

const outfile = process.argv[2] ?? "dist/shardctl";
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
    `--outfile=${outfile}`,
  ],
  { stdout: "inherit", stderr: "inherit" },
);
process.exit(proc.exitCode ?? 1);
