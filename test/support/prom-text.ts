/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written for the tests
 * from the format's description (not prom-client's code), so that it checks what the
 * instance sends rather than agreeing with the library that wrote it. It throws on
 * anything a scraper could choke on: a sample before its TYPE, a family split in two, a
 * malformed name, label or value, a duplicate series, a histogram whose buckets are not
 * cumulative or whose +Inf bucket is not its count.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  readonly help: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` -> labels, and the index after the closing brace. */
function parseLabels(text: string, start: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === "}") return [labels, i + 1];
    const eq = text.indexOf("=", i);
    if (eq === -1) throw new Error(`line ${line}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value of ${name} not quoted`);
    let value = "";
    let j = eq + 2;
    for (; ; j++) {
      const c = text[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const next = text[++j];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next}`);
      } else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`line ${line}: expected ',' or '}' after label ${name}`);
  }
}

/** The family a sample name belongs to: histogram and summary samples carry suffixes. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split("\n");
  for (const [k, raw] of lines.entries()) {
    const line = k + 1;
    if (raw.trim() === "") continue;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (closed.has(name)) throw new Error(`line ${line}: family ${name} appears twice`);
      if (current && current.name !== name) closed.add(current.name);
      let f = families.get(name);
      if (!f) {
        f = { name, type: "untyped", help: "", samples: [] };
        families.set(name, f);
      }
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
        if (f.samples.length) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        (f as { type: string }).type = rest;
      } else {
        (f as { help: string }).help = rest.replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
      }
      current = f;
      continue;
    }
    const brace = raw.indexOf("{");
    const space = raw.indexOf(" ");
    const nameEnd = brace !== -1 && brace < space ? brace : space;
    if (nameEnd <= 0) throw new Error(`line ${line}: no value`);
    const name = raw.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (raw[nameEnd] === "{") [labels, rest] = parseLabels(raw, nameEnd, line);
    const parts = raw.slice(rest).trim().split(/ +/);
    if (parts.length < 1 || parts.length > 2 || raw[rest] !== " ") throw new Error(`line ${line}: expected '<value> [timestamp]'`);
    const value = parseValue(parts[0]!, line);
    const family = familyOf(name, families);
    if (!family) throw new Error(`line ${line}: sample ${name} before any TYPE/HELP of its family`);
    if (current !== family) throw new Error(`line ${line}: sample ${name} outside its family's block`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`line ${line}: series ${key} twice`);
    series.add(key);
    family.samples.push({ name, labels, value });
  }
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** Buckets ascending by `le`, cumulative, ending at +Inf = _count, per label set. */
function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  const key = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== "le")
        .sort(),
    );
  for (const s of f.samples) {
    if (s.name !== `${f.name}_bucket`) continue;
    if (!("le" in s.labels)) throw new Error(`${f.name}: bucket without le`);
    const g = groups.get(key(s.labels)) ?? [];
    g.push(s);
    groups.set(key(s.labels), g);
  }
  for (const [k, buckets] of groups) {
    let le = -Infinity;
    let count = 0;
    for (const b of buckets) {
      const bound = parseValue(b.labels.le!, 0);
      if (!(bound > le)) throw new Error(`${f.name}${k}: buckets not ascending`);
      if (b.value < count) throw new Error(`${f.name}${k}: buckets not cumulative`);
      le = bound;
      count = b.value;
    }
    if (le !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket`);
    const total = f.samples.find((s) => s.name === `${f.name}_count` && key(s.labels) === k);
    if (!total || total.value !== count) throw new Error(`${f.name}${k}: _count ${total?.value} is not the +Inf bucket ${count}`);
    if (!f.samples.some((s) => s.name === `${f.name}_sum` && key(s.labels) === k)) throw new Error(`${f.name}${k}: no _sum`);
  }
}

/** The value of one series (0 when absent): family sample `name` whose labels include `labels`. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return 0;
}
