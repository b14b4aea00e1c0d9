/** One HTTP request to a server the test started (an instance, a router), JSON in and out. */

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON; undefined when it is empty. */
  readonly json: any;
}

/**
 * `method path` on the server at `base`; a body is sent as JSON, a string body as it is
 * (malformed JSON, a body that is too large). A body that is not JSON fails the test: every
 * answer of an instance and of the router is JSON, or empty.
 */
export async function call(base: string, method = "GET", path = "", body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(base + path, { method, body: payload, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new Error(`${method} ${base}${path} answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, json };
}
