/**
 * Request bodies: JSON, at most MAX_BODY_BYTES. The limit is enforced while reading,
 * so a body without Content-Length (chunked) is cut off too, and the answer is our own
 * JSON 413 with X-Shard-Node rather than a bare one from the socket layer, given after a
 * bounded lingering read of the rest (LINGER_BYTES, LINGER_MS).
 */
import { ApiError, errorMessage } from "../errors.ts";
import { clip } from "./errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = (limit: number) => new ApiError(413, "body_too_large", `body: larger than the limit of ${limit} bytes`);

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Lingering close, as nginx does it: after deciding on a 413, the rest of the body is read
 * and dropped, at most LINGER_BYTES in all and for LINGER_MS, before the answer (with
 * Connection: close). A client that writes its whole body before it reads (Python's
 * http.client, urllib) then reads the 413; closing with its body unread would reset the
 * connection under it (a broken pipe). Past either bound the connection is closed anyway:
 * nobody can make the server read without end.
 */
export const LINGER_BYTES = 8 << 20;
export const LINGER_MS = 2000;

/** What discard needs of a body's reader. */
interface BodyReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

async function readLimited(request: Request, limit: number): Promise<string> {
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > limit) {
      // a body longer than the bound would be cut off anyway: not worth reading any of it
      if (Number(length) <= LINGER_BYTES) await discard(request.body?.getReader(), LINGER_BYTES);
      throw tooLarge(limit);
    }
    // The socket layer holds the body to its declared length: read it the fast, native way.
    return utf8.decode(await request.arrayBuffer());
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await discard(reader, LINGER_BYTES - size);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return utf8.decode(Buffer.concat(chunks));
}

/** Reads and drops the rest of a body: until it ends, `bytes` more were read, or LINGER_MS passed; then lets go of it. */
async function discard(reader: BodyReader | undefined, bytes: number): Promise<void> {
  if (!reader) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), LINGER_MS)));
  try {
    for (let left = bytes; left > 0; ) {
      const next = await Promise.race([reader.read(), late]);
      if (next === undefined || next.done) return;
      left -= next.value?.byteLength ?? 0;
    }
  } catch {
    // the client went away: nothing more to read
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}

/** Content types of an HTML form: a body in them is no JSON, however it looks. */
const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

/**
 * The body of a POST or PUT as text: 415 for a form (urlencoded or multipart), 413 when
 * it is larger than `limit` bytes, 400 when it is not UTF-8. Any other Content-Type, or
 * none, is read. undefined for other methods (like GET, DELETE ignores a body).
 */
export async function readBodyText(request: Request, limit = MAX_BODY_BYTES): Promise<string | undefined> {
  if (request.method !== "POST" && request.method !== "PUT") return undefined;
  const type = request.headers.get("content-type");
  const form = type === null ? null : FORM_TYPES.exec(type);
  if (form) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `body: send application/json, not ${form[1]!.toLowerCase()} (with curl: -H 'Content-Type: application/json' -d '{...}')`,
    );
  }
  try {
    return await readLimited(request, limit);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, "malformed_body", "body: not valid UTF-8 text");
  }
}

/** A body's text as a JSON object: 400 when it is empty or not JSON, 422 when it is JSON but no object. */
export function parseJsonText(text: string): object {
  if (text.trim() === "") throw new ApiError(400, "malformed_json", "body: empty; send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "malformed_json", `body: malformed JSON (${errorMessage(e)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new ApiError(422, "invalid_body", `body: must be a JSON object with the expense fields, got ${got}`);
  }
  const repeated = repeatedKey(text);
  if (repeated !== undefined) {
    const key = clip(repeated, 64);
    throw new ApiError(400, "malformed_json", `${key}: is given more than once in the body; give each field once`, key);
  }
  return value;
}

/** The body as JSON (see readBodyText and parseJsonText); null for methods that take no body (parsed, nothing to read). */
export async function parseJsonBody({ request }: { request: Request }, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readBodyText(request, limit);
  return text === undefined ? null : parseJsonText(text);
}

/**
 * The first key that the top-level object of `text` (valid JSON, already parsed) holds
 * twice. JSON.parse keeps the last silently, so `{"id":"1","id":"2"}` would store a record
 * whose id is not the one a reader of the body sees first.
 */
function repeatedKey(text: string): string | undefined {
  const keys = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      expectKey = depth === 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}
