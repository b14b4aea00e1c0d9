/**
 * The OpenAPI document of a server of the binary (an instance's, the router's) at
 * /openapi/json. @elysiajs/openapi derives it from the routes' t schemas, the one source
 * of truth; finishDocument then makes it say what the server really answers, in a form
 * validators accept (test/http/openapi.test.ts checks both documents with swagger-parser,
 * and every answer of the API contract suite against the instance's):
 *
 *   - an answer without a body (DELETE's 204) has no content (the plugin writes t.Void as
 *     if it were a media type), and a named schema is a $ref, never a copy with a `$id`;
 *   - every operation lists the error answers every route of the server can give (a
 *     second Host line 400, an unknown or repeated query parameter 422, 500, an instance's
 *     503 while it starts): the JSON error body;
 *   - answers a route documents without Elysia checking them (DOCUMENTED_ANSWERS);
 *   - the headers every answer of the server carries, Location on a 201, Retry-After on a
 *     503, Allow on a 405 (components.responses.MethodNotAllowed);
 *   - the admin bearer token as a security scheme, on every operation tagged admin;
 *   - the paths in the order of their tags: the expense API first, the admin endpoints last.
 */
import { toOpenAPISchema } from "@elysiajs/openapi/openapi";
import { Elysia } from "elysia";
import { VERSION } from "../version.ts";

/**
 * A key of a route's `detail`: answers the document lists for it that Elysia does not
 * check (a bulk answer, whose check item by item would cost more than building it), as
 * OpenAPI response objects by status. finishDocument moves them into the responses.
 */
export const DOCUMENTED_ANSWERS = "x-documented-answers";

/** The tag of the admin endpoints: they take the admin bearer token. */
export const ADMIN_TAG = "admin";

/** A header an answer of the server carries. */
export interface AnswerHeader {
  readonly description: string;
  /** On every answer (else: on some, as the description says). */
  readonly required?: boolean;
}

export interface DocumentOptions {
  readonly title: string;
  readonly description: string;
  /** Every tag of the routes, in the order the document lists them and their paths. */
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  /** The headers of every answer of this server, by name (X-Shard-Node, ...). */
  readonly headers: Readonly<Record<string, AnswerHeader>>;
  /** The error answers any route of this server may give, by status: each operation lists them (the error body). */
  readonly errors: Readonly<Record<string, string>>;
}

/** The error answers every server of the binary may give on any route. */
export const ANY_ROUTE_ERRORS = {
  "400": "a request with more than one Host line (or a comma in it)",
  "422": "a query parameter the route does not take, or one given twice",
  "500": "an internal error (the server's log has the details)",
} as const;

// The document as JSON: the plugin's output, read and completed here.
// biome-ignore lint/suspicious/noExplicitAny: JSON of the plugin's making, walked by key
type Json = Record<string, any>;

const json = (schema: Json) => ({ "application/json": { schema } });
const ERROR_BODY = { $ref: "#/components/schemas/ErrorBody" };
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Headers that depend on the status rather than the server. */
const STATUS_HEADERS: Record<string, Record<string, AnswerHeader>> = {
  "201": { Location: { description: "the path of the record stored: /v1/expenses/<id>", required: true } },
  "503": { "Retry-After": { description: "seconds to wait before trying again, when the server can tell (1 for a database or a fence)" } },
};

const headerObject = ({ description, required = false }: AnswerHeader) => ({ description, required, schema: { type: "string" } });

const COMPONENT = "#/components/schemas/";

/**
 * `value` with each copy of a named schema (Elysia gives a model the `$id`
 * `#/components/schemas/<name>`, and the plugin inlines it where a route names the object)
 * made a `$ref` to it: a `$id` that is only a fragment is no valid JSON Schema 2020-12.
 */
function referenced(value: unknown, named: Json): unknown {
  if (Array.isArray(value)) return value.map((v) => referenced(v, named));
  if (!value || typeof value !== "object") return value;
  const id = (value as Json).$id;
  if (typeof id === "string" && id.startsWith(COMPONENT) && id.slice(COMPONENT.length) in named) return { $ref: id };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, referenced(v, named)]));
}

/** The generated document of `paths` and `schemas`, finished as the header comment says. */
export function finishDocument(generated: { paths: Json; components: { schemas: Json } }, options: DocumentOptions): Json {
  // the named schemas without their fragment $id, and every copy of one elsewhere a $ref to it
  const schemas: Json = {};
  for (const [name, schema] of Object.entries(generated.components.schemas)) {
    const { $id: _, ...rest } = schema as Json;
    schemas[name] = referenced(rest, generated.components.schemas);
  }
  const headers: Json = {};
  for (const [name, header] of [...Object.entries(options.headers), ...Object.values(STATUS_HEADERS).flatMap((h) => Object.entries(h))]) {
    headers[name] = headerObject(header);
  }
  const refs = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
  const serverHeaders = Object.keys(options.headers);

  let admin = false;
  const paths: [string, Json][] = Object.entries(generated.paths).map(([path, item]) => {
    const finished = referenced(item, generated.components.schemas) as Json;
    for (const method of METHODS) {
      const op = finished[method] as Json | undefined;
      if (!op) continue;
      const responses: Json = { ...op.responses, ...op[DOCUMENTED_ANSWERS] };
      const { [DOCUMENTED_ANSWERS]: _, ...rest } = op;
      for (const [status, answer] of Object.entries(responses)) {
        const { content, ...fields } = answer as Json;
        // only media types are content: the plugin writes a void answer's type and description there
        const body = content && Object.keys(content).every((type) => type.includes("/")) ? { content } : {};
        responses[status] = { ...fields, headers: refs([...serverHeaders, ...Object.keys(STATUS_HEADERS[status] ?? {})]), ...body };
      }
      for (const [status, description] of Object.entries(options.errors)) {
        responses[status] ??= {
          description,
          headers: refs([...serverHeaders, ...Object.keys(STATUS_HEADERS[status] ?? {})]),
          content: json(ERROR_BODY),
        };
      }
      const isAdmin = (rest.tags as string[] | undefined)?.includes(ADMIN_TAG) ?? false;
      admin ||= isAdmin;
      finished[method] = { ...rest, responses, ...(isAdmin ? { security: [{ adminToken: [] }] } : {}) };
    }
    return [path, finished];
  });

  // the paths in the order of the tags of their operations (a path goes where its first tag does)
  const order = (item: Json) =>
    Math.min(
      ...METHODS.flatMap((m) => (item[m]?.tags ?? []) as string[]).map((tag) => {
        const at = options.tags.findIndex((t) => t.name === tag);
        return at === -1 ? options.tags.length : at;
      }),
    );
  paths.sort((a, b) => order(a[1]) - order(b[1]));

  return {
    openapi: "3.1.2",
    info: { title: options.title, version: VERSION, description: options.description },
    tags: options.tags,
    paths: Object.fromEntries(paths),
    components: {
      schemas,
      headers,
      responses: {
        MethodNotAllowed: {
          description: "a method the path does not serve (PATCH /v1/expenses/7): Allow lists those it does",
          headers: { ...refs(serverHeaders), Allow: headerObject({ description: "the methods the path serves, e.g. GET, HEAD, PUT, DELETE", required: true }) },
          content: json(ERROR_BODY),
        },
      },
      ...(admin
        ? {
            securitySchemes: {
              adminToken: {
                type: "http",
                scheme: "bearer",
                description:
                  "Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>. An instance started without that variable takes admin requests " +
                  "from loopback addresses only, without a token; anything else is 403",
              },
            },
          }
        : {}),
    },
  };
}

/** GET /openapi/json: the server's finished document, made once from its routes on the first request. */
export function apiDocs(options: DocumentOptions) {
  const plugin = new Elysia({ name: "openapi-document", seed: options.title });
  let document: Json | undefined;
  return plugin.get(
    "/openapi/json",
    () => (document ??= finishDocument(toOpenAPISchema(plugin, { methods: ["options"], staticFile: true }, undefined, undefined, "3.1.2"), options)),
    { detail: { hide: true } },
  );
}
