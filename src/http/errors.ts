/**
 * The one place where errors become answers: the ErrorBody of model.ts with the
 * status the error stands for. Client mistakes are 4xx: malformed JSON 400, a missing,
 * unknown or invalid field 422, body too large 413 (each an ApiError or a schema
 * failure); an unreachable database is 503; anything else is a bug, logged with its
 * stack, and a 500.
 */
import { ParseError, ValidationError } from "elysia";
import { ApiError } from "../errors.ts";
import type { ErrorBody } from "../expenses/model.ts";
import { StoreUnavailable } from "../store/types.ts";
import type { RouteTable } from "./routes.ts";

// TypeBox ValueErrorType codes (stable since typebox 0.32).
const UNEXPECTED_PROPERTY = 42;
const REQUIRED_PROPERTY = 45;

interface ValueIssue {
  type: number;
  path: string;
  value: unknown;
  schema?: { description?: string };
  message: string;
}

function shown(value: unknown): string {
  return clip(JSON.stringify(value) ?? String(value));
}

/** Text from the request (a value, a parameter name, a path) cut to `max` characters for messages. */
export function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * The path of a request URL, without query. Never throws: a request target such as
 * `CONNECT a:80` or `*` is no absolute URL, and an error handler must not fail on it.
 */
export function pathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
  if (start === -1) return "/";
  const end = url.search(/[?#]/);
  return url.slice(start, end === -1 || end < start ? undefined : end);
}

function acceptedFields(error: ValidationError): string[] {
  const schema = (error.validator as { schema?: { properties?: object } }).schema;
  return Object.keys(schema?.properties ?? {});
}

/** One message per field, the first problem found, in the order TypeBox reports them. */
function validationAnswer(error: ValidationError): ErrorBody {
  const seen = new Map<string, string>();
  for (const issue of error.all as unknown as ValueIssue[]) {
    const field = clip(issue.path.replace(/^\//, "").split("/")[0] || error.type, 64);
    if (seen.has(field)) continue;
    const rule = issue.schema?.description ?? issue.message.toLowerCase();
    let message: string;
    if (issue.type === UNEXPECTED_PROPERTY) {
      const accepted = acceptedFields(error);
      const noun = error.type === "query" ? "query parameter" : "field";
      const none = error.type === "query" ? "; this route takes no query parameters" : "";
      message = `${field}: unknown ${noun}${accepted.length ? `; accepted: ${accepted.join(", ")}` : none}`;
    } else if (typeof issue.value === "string" && !issue.value.isWellFormed()) {
      message = `${field}: must be well-formed Unicode text (it contains a lone surrogate, which cannot be stored), got ${shown(issue.value)}`;
    } else if (issue.type === REQUIRED_PROPERTY) {
      message = `${field}: is required; it ${rule}`;
    } else {
      message = `${field}: ${rule}, got ${shown(issue.value)}`;
    }
    seen.set(field, message);
  }
  const errors = [...seen].map(([field, message]) => ({ field, message }));
  const first = errors[0] ?? { field: error.type, message: `${error.type}: invalid` };
  return { error: "invalid_field", message: first.message, field: first.field, errors };
}

/** The answer for `error`; sets `set.status` so that the request log sees the real status. */
export function errorAnswer(
  code: string | number,
  error: unknown,
  request: Request,
  set: { status?: number | string; headers: Record<string, string | number> },
  report: (e: unknown) => void,
  routes: RouteTable,
): ErrorBody {
  let cause = error;
  if (error instanceof ParseError) cause = error.cause ?? error;
  if (cause instanceof ValidationError) {
    set.status = 422;
    return validationAnswer(cause);
  }
  if (code === "NOT_FOUND") {
    const path = pathOf(request.url);
    const allowed = routes.routeOf(path)?.methods;
    const method = clip(request.method, 16);
    if (allowed) {
      set.status = 405;
      set.headers.allow = allowed.join(", ");
      return { error: "method_not_allowed", message: `${method} ${clip(path)}: method not allowed; allowed: ${allowed.join(", ")}` };
    }
    set.status = 404;
    return { error: "not_found", message: `no route for ${method} ${clip(path)}` };
  }
  if (cause instanceof ApiError) {
    set.status = cause.status;
    // The rest of an oversized body is not read: the connection cannot carry another request.
    if (cause.status === 413) set.headers.connection = "close";
    Object.assign(set.headers, cause.more.headers);
    const answer: ErrorBody = { error: cause.kind, message: cause.message, ...cause.more.body };
    if (cause.field !== undefined) {
      answer.field = cause.field;
      // a field problem found after the schema reads like a schema failure: every bad field under `errors`
      if (cause.kind === "invalid_field") answer.errors = [{ field: cause.field, message: cause.message }];
    }
    return answer;
  }
  if (cause instanceof StoreUnavailable) {
    set.status = 503;
    set.headers["retry-after"] = "1";
    return { error: "database_unavailable", message: cause.message };
  }
  if (cause instanceof ParseError || code === "PARSE") {
    set.status = 400;
    return { error: "malformed_body", message: "body: could not be parsed as JSON" };
  }
  report(error);
  set.status = 500;
  return INTERNAL;
}

export const INTERNAL: ErrorBody = { error: "internal", message: "internal error; the server log has the details" };

/**
 * An app's onError answer (an instance's or the router's), which cannot throw: errorAnswer,
 * and INTERNAL if even that fails. Unexpected errors go to stderr tagged with `who` and the
 * request (clipped: a client chooses its target). `routes` says which methods a known path
 * takes (the 405's Allow).
 */
export function answerError(
  who: string,
  code: string | number,
  error: unknown,
  request: Request,
  set: Parameters<typeof errorAnswer>[3],
  routes: RouteTable,
): ErrorBody {
  const report = (e: unknown) => console.error(`[${who}] ${clip(request.method, 16)} ${clip(request.url, 200)}:`, e);
  try {
    return errorAnswer(code, error, request, set, report, routes);
  } catch (e) {
    report(e);
    set.status = 500;
    return INTERNAL;
  }
}

/**
 * The last resort when the error handler itself fails, or an error escapes the app:
 * still the JSON error body with X-Shard-Node, never Bun's HTML error page.
 */
export function internalErrorResponse(node: string, ringLabel?: string): Response {
  return Response.json(INTERNAL, { status: 500, headers: { "x-shard-node": node, ...(ringLabel ? { "x-shard-ring": ringLabel } : {}) } });
}
