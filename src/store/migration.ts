/** A schema migration, embedded as SQL strings so that it travels inside the compiled binary. Append only. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}
