/** Baked in by `npm run build` (--define); the package version when run from source. */
declare const SHARDCTL_VERSION: string | undefined;
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = typeof SHARDCTL_VERSION === "string" ? SHARDCTL_VERSION : pkg.version;
