/** The pre-flight check's one error, shared by `client run`, `client verify` and `router` (which then does not start). */
import type { PreflightReport } from "../client/preflight.ts";

/** Why nothing was sent (or `outcome`), and the `--nodes` value that names each address as its instance does. */
export function describeMisnamed({ misnamed, matchingNodes }: PreflightReport, outcome = "nothing was sent"): string {
  return [
    `the node names do not match the instances' (X-Shard-Node); ${outcome}`,
    ...misnamed.map((m) => `  ${m.url} answers as node "${m.answeredAs}", but the node list calls it "${m.node}"`),
    `Names decide placement. To use the names the instances go by, run with:`,
    `  --nodes ${matchingNodes}`,
    `or start each instance with --name set to its name in the node list.`,
  ].join("\n");
}
