/**
 * The value rules of an expense record, as plain functions: the `t` formats in
 * model.ts call them to validate, the service calls them to produce the canonical
 * form that is stored and returned.
 */

/** Largest estimated cost: 12 integer digits and cents, so cents fit a JS number exactly. */
export const MAX_COST = 999_999_999_999.99;
export const MAX_COST_CENTS = 99_999_999_999_999;

const COST_TEXT = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/** "700", "700.5", "0700.50" or 700.5 -> 70050 cents; undefined when not a non-negative cost with at most cents. */
export function costToCents(input: string | number): number | undefined {
  const text = typeof input === "number" ? (Number.isFinite(input) ? String(input) : "") : input;
  const m = COST_TEXT.exec(text);
  if (!m) return undefined;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  return cents <= MAX_COST_CENTS ? cents : undefined;
}

/** 70050 -> "700.5", 70000 -> "700", 7 -> "0.07": the canonical string form of a cost. */
export function centsToCost(cents: number): string {
  const whole = Math.floor(cents / 100);
  const frac = cents % 100;
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(2, "0").replace(/0$/, "")}`;
}

const DMY = /^(\d{2})-(\d{2})-(\d{4})$/;

/** "12-10-2016" -> "2016-10-12" when the day exists (years 1000..9999, the range of SQL DATE). */
export function dmyToIso(text: string): string | undefined {
  const m = DMY.exec(text);
  if (!m) return undefined;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1000 || month < 1 || month > 12 || day < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  return `${m[3]}-${m[2]}-${m[1]}`;
}

/** "2016-10-12" -> "12-10-2016". */
export function isoToDmy(iso: string): string {
  const [y, m, d] = iso.split("-");
  return `${d}-${m}-${y}`;
}

/** An email address: one @, no spaces, a dot in the domain. Deliberately loose (RFC 5322 is not the point). */
export function isEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(text);
}

/** An absolute http(s) URL. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol, hostname } = new URL(text);
  return (protocol === "http:" || protocol === "https:") && hostname !== "";
}

/**
 * The length of `text` in characters as MySQL's utf8mb4 VARCHAR counts them: Unicode code
 * points, so an emoji is one character (String.length would count its two UTF-16 units).
 */
export function charCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // a high surrogate followed by a low one is one code point
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Text that can be stored as given: well-formed Unicode (no lone surrogate such as
 * "\ud800", which JSON can carry but UTF-8 cannot; the databases would store U+FFFD)
 * of `min` to `max` characters (code points).
 */
export function isText(text: string, min: number, max: number): boolean {
  if (!text.isWellFormed()) return false;
  const n = charCount(text);
  return n >= min && n <= max;
}
