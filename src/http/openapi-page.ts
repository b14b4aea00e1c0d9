/**
 * The API docs page at /openapi (and /openapi/): a plain page, inside the binary, that
 * reads /openapi/json and lists every route with its parameters, body and answers, and
 * every schema. The expense API comes first, then the other routes by tag; each answer
 * shows its status, reason and the fields of its body (the table a click away), and
 * `backticks` in descriptions show as code. No script or style from anywhere else, so
 * it works offline; the JSON document is linked for tools that want it.
 */
import { Elysia } from "elysia";

const SPEC_PATH = "/openapi/json";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shardctl API</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
  code, .path { font-family: ui-monospace, monospace; }
  code { background: #f3f3f3; border-radius: 3px; padding: 0 0.2em; }
  section.op { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0; }
  .method { display: inline-block; min-width: 4.5em; font-weight: bold; }
  table { border-collapse: collapse; margin: 0.3em 0 0.8em; }
  td, th { border-bottom: 1px solid #eee; padding: 0.2em 0.8em 0.2em 0; text-align: left; vertical-align: top; }
  .muted { color: #666; }
  ul.answers { list-style: none; padding-left: 0; }
  ul.answers > li { margin: 0.2em 0; }
  .status { display: inline-block; min-width: 2.5em; font-weight: bold; font-family: ui-monospace, monospace; }
  details > summary { cursor: pointer; }
  details > table { margin-left: 2.5em; }
  nav ul { columns: 2; }
</style>
</head>
<body>
<h1 id="title">shardctl API</h1>
<p id="description" class="muted"></p>
<p>The OpenAPI document: <a id="spec" href="${SPEC_PATH}">${SPEC_PATH}</a></p>
<nav id="toc"></nav>
<div id="routes"><p>Loading ${SPEC_PATH} ...</p></div>
<h2 id="schemas-heading">Schemas</h2>
<div id="schemas"></div>
<script>
(async () => {
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  // text with \`backticks\` as code
  const rich = (tag, text, cls) => {
    const e = el(tag, undefined, cls);
    String(text || "").split("\`").forEach((part, i) => { if (part) e.appendChild(i % 2 ? el("code", part) : document.createTextNode(part)); });
    return e;
  };
  const refName = (s) => (s && s.$ref ? s.$ref.split("/").pop() : undefined);
  const typeOf = (s) => {
    if (!s) return "";
    if (s.$ref) return refName(s);
    if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.type === "array") return typeOf(s.items) + "[]";
    if (s.type === "object" && s.properties) return "{ " + fieldNames(s).join(", ") + " }";
    return Array.isArray(s.type) ? s.type.join(" | ") : s.type || "";
  };
  // the fields of an object schema, an optional one with "?"
  const fieldNames = (schema) => {
    const required = new Set(schema.required || []);
    return Object.keys(schema.properties || {}).map((name) => name + (required.has(name) ? "" : "?"));
  };
  const fields = (schema) => {
    const table = el("table");
    const head = table.insertRow();
    for (const h of ["field", "type", "required", "rule"]) head.appendChild(el("th", h));
    const required = new Set(schema.required || []);
    for (const [name, prop] of Object.entries(schema.properties || {})) {
      const row = table.insertRow();
      row.insertCell().appendChild(el("code", name));
      row.insertCell().textContent = typeOf(prop);
      row.insertCell().textContent = required.has(name) ? "yes" : "";
      row.insertCell().appendChild(rich("span", prop.description || (prop.anyOf || []).map((p) => p.description).filter(Boolean).join("; ")));
    }
    return table;
  };
  const REASONS = { 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 421: "Misdirected Request", 422: "Unprocessable Content",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };
  const routes = document.getElementById("routes");
  let doc;
  try {
    const res = await fetch(${JSON.stringify(SPEC_PATH)});
    doc = await res.json();
  } catch (e) {
    routes.replaceChildren(el("p", "Could not load ${SPEC_PATH}: " + e));
    return;
  }
  const schemas = (doc.components && doc.components.schemas) || {};
  const schemaOf = (s) => (refName(s) ? schemas[refName(s)] : s);
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.title = doc.info.title;
  document.getElementById("description").replaceWith(rich("p", doc.info.description || "", "muted"));

  // one section per tag, the expense API first, then the others as the document lists them
  const groups = new Map([["expenses", []]]);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push({ path, method, op });
    }
  }
  routes.replaceChildren();
  const toc = el("ul");
  for (const [tag, list] of groups) {
    if (list.length === 0) continue;
    const heading = el("h2", tag === "expenses" ? "expenses: the API" : tag);
    heading.id = "tag-" + tag;
    routes.appendChild(heading);
    const item = el("li");
    const link = el("a", (tag === "expenses" ? "expenses: the API" : tag) + " (" + list.length + ")");
    link.href = "#tag-" + tag;
    item.appendChild(link);
    toc.appendChild(item);
    for (const { path, method, op } of list) routes.appendChild(operation(path, method, op));
  }
  const schemasItem = el("li");
  const schemasLink = el("a", "schemas");
  schemasLink.href = "#schemas-heading";
  schemasItem.appendChild(schemasLink);
  toc.appendChild(schemasItem);
  document.getElementById("toc").appendChild(toc);

  function operation(path, method, op) {
    const box = el("section", undefined, "op");
    const h = el("h3");
    h.append(el("span", method.toUpperCase(), "method"), el("span", path, "path"));
    box.appendChild(h);
    if (op.summary) box.appendChild(rich("p", op.summary));
    if (op.description && op.description !== op.summary) box.appendChild(rich("p", op.description, "muted"));
    const params = op.parameters || [];
    if (params.length) {
      box.appendChild(el("h4", "Parameters"));
      const ul = el("ul");
      for (const p of params) {
        const what = (p.schema && p.schema.description) || typeOf(p.schema);
        ul.appendChild(rich("li", p.in + " " + p.name + (p.required ? " (required)" : "") + ": " + what));
      }
      box.appendChild(ul);
    }
    const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) {
      const name = refName(body.schema);
      box.appendChild(el("h4", "Body (application/json): " + (name || "object")));
      const schema = schemaOf(body.schema);
      if (schema) box.appendChild(fields(schema));
    }
    box.appendChild(el("h4", "Answers"));
    const ul = el("ul", undefined, "answers");
    for (const [status, answer] of Object.entries(op.responses || {})) ul.appendChild(response(status, answer));
    box.appendChild(ul);
    return box;
  }

  // an answer: its status and reason, then what its body holds: the schema's fields (a table on request), or its text
  function response(status, answer) {
    const li = el("li");
    const said = answer.description && !/^Response for status \\d+$/.test(answer.description) ? answer.description : "";
    const head = [el("span", status, "status"), document.createTextNode((REASONS[status] || "") + (said ? ": " : ""))];
    if (said) head.push(rich("span", said));
    const content = answer.content || {};
    const json = content["application/json"];
    const schema = json && schemaOf(json.schema);
    if (!schema || !schema.properties) {
      const type = Object.keys(content)[0];
      li.append(...head, document.createTextNode(json ? " (JSON: " + typeOf(json.schema) + ")" : type && !said ? " (" + type + ")" : ""));
      return li;
    }
    const details = el("details");
    const summary = el("summary");
    const name = refName(json.schema);
    summary.append(...head, document.createTextNode((said ? " — " : ": ") + (name ? name + " " : "") + "{ " + fieldNames(schema).join(", ") + " }"));
    details.append(summary, fields(schema));
    li.appendChild(details);
    return li;
  }

  const list = document.getElementById("schemas");
  for (const [name, schema] of Object.entries(schemas)) {
    const h = el("h3", name);
    h.id = "schema-" + name;
    list.appendChild(h);
    list.appendChild(fields(schema));
  }
})();
</script>
</body>
</html>
`;

/** GET /openapi and /openapi/: the page above (the JSON document is served by openapi-document.ts). */
export function openapiPage() {
  const page = () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  return new Elysia({ name: "openapi-page" }).get("/openapi", page, { detail: { hide: true } }).get("/openapi/", page, { detail: { hide: true } });
}
