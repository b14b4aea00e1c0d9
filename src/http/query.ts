import { invalidField } from "../expenses/errors.ts";
import { clip } from "./errors.ts";

/**
 * A query parameter given twice (`?limit=1&limit=2`) is a 422 naming it; otherwise one
 * of the values would win silently.
 */
export function rejectRepeatedQuery(url: string): void {
  const q = url.indexOf("?");
  if (q === -1) return;
  const seen = new Set<string>();
  for (const key of new URLSearchParams(url.slice(q + 1)).keys()) {
    if (seen.has(key)) throw invalidField(clip(key, 64), "is given more than once; give each query parameter at most once");
    seen.add(key);
  }
}
