/**
 * The API docs page at /openapi (and /openapi/): a plain page, inside the binary, that
 * reads /openapi/json and lists every route with its parameters, body and answers, and
 * every schema. No script or style from anywhere else, so it works offline; the JSON
 * document is linked for tools that want it.
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
  section.op { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0; }
  .method { display: inline-block; min-width: 4.5em; font-weight: bold; }
  table { border-collapse: collapse; margin: 0.3em 0 0.8em; }
  td, th { border-bottom: 1px solid #eee; padding: 0.2em 0.8em 0.2em 0; text-align: left; vertical-align: top; }
  .muted { color: #666; }
</style>
</head>
<body>
<h1 id="title">shardctl API</h1>
<p id="description" class="muted"></p>
<p>The OpenAPI document: <a id="spec" href="${SPEC_PATH}">${SPEC_PATH}</a></p>
<div id="routes"><p>Loading ${SPEC_PATH} ...</p></div>
<h2>Schemas</h2>
<div id="schemas"></div>
<script>
(async () => {
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const refName = (s) => (s && s.$ref ? s.$ref.split("/").pop() : undefined);
  const typeOf = (s) => {
    if (!s) return "";
    if (s.$ref) return refName(s);
    if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.type === "array") return typeOf(s.items) + "[]";
    return s.type || "";
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
      row.insertCell().textContent = prop.description || (prop.anyOf || []).map((p) => p.description).filter(Boolean).join("; ");
    }
    return table;
  };
  const routes = document.getElementById("routes");
  let doc;
  try {
    const res = await fetch(${JSON.stringify(SPEC_PATH)});
    doc = await res.json();
  } catch (e) {
    routes.replaceChildren(el("p", "Could not load ${SPEC_PATH}: " + e));
    return;
  }
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.title = doc.info.title;
  document.getElementById("description").textContent = doc.info.description || "";
  routes.replaceChildren();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const box = el("section", undefined, "op");
      const h = el("h3");
      h.append(el("span", method.toUpperCase(), "method"), el("span", path, "path"));
      box.appendChild(h);
      if (op.summary) box.appendChild(el("p", op.summary));
      const params = op.parameters || [];
      if (params.length) {
        box.appendChild(el("h4", "Parameters"));
        const ul = el("ul");
        for (const p of params) {
          const what = (p.schema && p.schema.description) || typeOf(p.schema);
          ul.appendChild(el("li", p.in + " " + p.name + (p.required ? " (required)" : "") + ": " + what));
        }
        box.appendChild(ul);
      }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) {
        const name = refName(body.schema);
        box.appendChild(el("h4", "Body (application/json): " + (name || "object")));
        const schema = name ? doc.components.schemas[name] : body.schema;
        if (schema) box.appendChild(fields(schema));
      }
      box.appendChild(el("h4", "Answers"));
      const ul = el("ul");
      for (const [status, answer] of Object.entries(op.responses || {})) {
        const json = answer.content && answer.content["application/json"];
        ul.appendChild(el("li", status + ": " + (json ? typeOf(json.schema) || "JSON" : answer.description || "")));
      }
      box.appendChild(ul);
      routes.appendChild(box);
    }
  }
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries(doc.components.schemas || {})) {
    schemas.appendChild(el("h3", name));
    schemas.appendChild(fields(schema));
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
