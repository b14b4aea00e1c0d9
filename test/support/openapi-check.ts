/**
 * A server's answers checked against its OpenAPI document by tools other than the ones
 * that made it: the operation of the method and path, the status among its responses (or
 * its default), the required headers, the content type among the response's media types
 * (no body where it has none), and the body against the schema, by Ajv (JSON Schema
 * 2020-12, the dialect of OpenAPI 3.1). A path the document does not have must be a 404,
 * a method its path does not serve a 405 as components.responses.MethodNotAllowed says.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";

type Json = Record<string, any>;

/** Where the document's component schemas are registered with Ajv (a $ref into the document is rewritten to it). */
const BASE = "https://shardctl.invalid/openapi";

/** `value` with every `$ref` into the document's components made absolute (Ajv resolves refs by URI). */
function absolute(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(absolute);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${BASE}${v.slice(1)}` : absolute(v)]),
  );
}

/** Every `format` the document uses: annotations for Ajv (the servers check them; the document only names them). */
function formats(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) formats(v, found);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "format" && typeof v === "string") found.add(v);
      else formats(v, found);
    }
  }
  return found;
}

export interface DocumentChecker {
  /** What is wrong with this answer by the document; empty when it is as documented. */
  problems(method: string, path: string, answer: { status: number; headers: Headers; text: string }): string[];
  /** Compiles every schema of the document (its components, bodies and answers); throws on one Ajv refuses. */
  compileAll(): number;
  /** A schema of the document, compiled, for a test of its own. */
  validator(schema: Json): ValidateFunction;
}

export function documentChecker(doc: Json): DocumentChecker {
  // strict, but for strictTypes: Elysia writes t.Integer as anyOf [integer, numeric string] with `minimum` beside it (valid, if loose)
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  for (const format of formats(doc)) ajv.addFormat(format, true);
  const components = absolute(doc.components) as Json;
  // a $ref of the document is #/components/schemas/<name>: registered under that URI too
  for (const [name, schema] of Object.entries(components.schemas as Json)) ajv.addSchema(schema as Json, `${BASE}/components/schemas/${name}`);
  const compiled = new Map<string, ValidateFunction>();
  const validator = (schema: Json) => {
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (!v) {
      v = ajv.compile(absolute(schema) as Json);
      compiled.set(key, v);
    }
    return v;
  };
  const resolve = (o: Json): Json =>
    typeof o?.$ref === "string"
      ? o.$ref
          .slice(2)
          .split("/")
          .reduce((at: Json, key: string) => at[key], doc)
      : o;

  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }));
  const pathItem = (path: string): Json | undefined => {
    const bare = path.split("?")[0]!;
    for (const candidate of bare.length > 1 && bare.endsWith("/") ? [bare, bare.slice(0, -1)] : [bare]) {
      const found = templates.find((t) => t.pattern.test(candidate));
      if (found) return doc.paths[found.template];
    }
    return undefined;
  };

  function checkAnswer(what: string, response: Json, answer: { status: number; headers: Headers; text: string }, head: boolean): string[] {
    const problems: string[] = [];
    for (const [name, h] of Object.entries((response.headers ?? {}) as Json)) {
      if (resolve(h).required && answer.headers.get(name) === null) problems.push(`${what}: no ${name} header, which the document requires`);
    }
    const content = response.content as Json | undefined;
    if (!content || head) {
      if (answer.text !== "") problems.push(`${what}: a body where the document has none: ${answer.text.slice(0, 200)}`);
      return problems;
    }
    const type = (answer.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const media = content[type];
    if (!media) return [...problems, `${what}: content type ${JSON.stringify(type)}, the document lists ${Object.keys(content).join(", ")}`];
    if (type !== "application/json" || !media.schema) return problems;
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return [...problems, `${what}: a body that is not JSON: ${answer.text.slice(0, 200)}`];
    }
    const check = validator(media.schema);
    if (!check(body)) problems.push(`${what}: the body is not as documented: ${ajv.errorsText(check.errors)}; body ${answer.text.slice(0, 300)}`);
    return problems;
  }

  return {
    problems(method, path, answer) {
      const what = `${method} ${path} -> ${answer.status}`;
      const item = pathItem(path);
      if (!item) {
        if (answer.status !== 404) return [`${what}: a path the document does not have answered other than 404`];
        return checkAnswer(what, { content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } } }, answer, false);
      }
      const head = method === "HEAD";
      const op = item[head ? "get" : method.toLowerCase()] as Json | undefined;
      if (!op) {
        if (answer.status !== 405) return [`${what}: a method its path does not serve answered other than 405`];
        return checkAnswer(what, resolve(doc.components.responses.MethodNotAllowed), answer, head);
      }
      const response = op.responses?.[String(answer.status)] ?? op.responses?.default;
      if (!response) return [`${what}: the document lists no ${answer.status} (and no default) for ${method} ${path}`];
      return checkAnswer(what, resolve(response), answer, head);
    },
    compileAll() {
      let n = 0;
      for (const schema of Object.values(doc.components.schemas as Json)) n += validator(schema as Json) ? 1 : 0;
      for (const item of Object.values(doc.paths as Json)) {
        for (const op of Object.values(item as Json)) {
          for (const p of (op as Json).parameters ?? []) n += validator(p.schema) ? 1 : 0;
          for (const media of Object.values(((op as Json).requestBody?.content ?? {}) as Json)) n += validator((media as Json).schema) ? 1 : 0;
          for (const response of Object.values(((op as Json).responses ?? {}) as Json)) {
            for (const media of Object.values((resolve(response as Json).content ?? {}) as Json))
              n += (media as Json).schema ? (validator((media as Json).schema) ? 1 : 0) : 0;
          }
        }
      }
      return n;
    },
    validator,
  };
}
