/**
 * Suites that need something a machine may lack (a MariaDB server, python3) skip without
 * it, saying why. Under CI=true the lack is an error instead: CI runs every suite.
 */
export function skipBecause(suite: string, reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (process.env.CI === "true") throw new Error(`CI=true but ${suite} cannot run: ${reason}`);
  console.warn(`[skip] ${suite}: ${reason}`);
  return reason;
}
