/** Raw HTTP/1.1 over a socket, for what a client sees on the wire whatever it sends. */
import { expect } from "bun:test";
import { connect } from "node:net";

/**
 * What an instance (and the router, which validates as it does) answers to `method target`
 * among ODD_TARGETS, by the rules, written out here rather than read from the server:
 * Bun's parser itself rejects (a bare 400, no body) any target that is neither a path nor
 * `http://...`, except for CONNECT, whose target it passes on as it is; `/v1/expenses/%00` is
 * an invalid id for the id routes (GET, DELETE) and a method that route does not serve for
 * the others (405); every other target is no route (404).
 */
export function expectedOddAnswer(method: string, target: string): { status: number; error: string | undefined } {
  if (method !== "CONNECT" && !target.startsWith("/") && !target.startsWith("http://")) return { status: 400, error: undefined };
  if (target === "/v1/expenses/%00")
    return ["GET", "DELETE"].includes(method) ? { status: 422, error: "invalid_field" } : { status: 405, error: "method_not_allowed" };
  return { status: 404, error: "not_found" };
}

/** Request targets that are no path: a server must still answer each with its JSON error body. */
export const ODD_TARGETS = ["a:80", ":80", "[::1]:80", "a", "*", "http:", "a:b:c", "http://", "//", "/%zz", "x:", "/v1/expenses/%00", "http://[::1"];

/** Sends `head` on a fresh connection; everything the server sends until it closes (or `ms` pass). */
export function exchange(port: number, head: string, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      // one complete answer with a Content-Length is enough
      const m = /\r\ncontent-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(text);
      if (m && text.length - (text.indexOf("\r\n\r\n") + 4) >= Number(m[1])) done();
    });
    socket.on("close", done);
    socket.on("error", done);
  });
}

/** The status line and headers, lower-cased. */
export const answerHead = (answer: string) => answer.slice(0, answer.indexOf("\r\n\r\n")).toLowerCase();
export const answerBody = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4);

/**
 * Sends `method` with every one of ODD_TARGETS to the server on `port` and checks each
 * answer against expectedOddAnswer: the status, no HTML and no stack, Bun's own 400 with no
 * body, every other answer our JSON error body. The heads of those JSON answers (lower-cased),
 * for what a server adds of its own.
 */
export async function expectOddAnswers(port: number, method: string): Promise<string[]> {
  const heads: string[] = [];
  for (const target of ODD_TARGETS) {
    const answer = await exchange(port, `${method} ${target} HTTP/1.1\r\nHost: a:80\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    const status = Number((answer.split("\r\n")[0] ?? "").split(" ")[1]);
    const text = answerBody(answer);
    const seen = { target, status, html: /<html|<!doctype/i.test(answer), stack: /\bat .*:\d+:\d+|\.ts:\d+/.test(answer) };
    const expected = expectedOddAnswer(method, target);
    expect(seen).toEqual({ target, status: expected.status, html: false, stack: false });
    // Bun's own 400 comes before any code of ours: no body; every other answer is our JSON error body
    if (expected.error === undefined) {
      expect({ target, text }).toEqual({ target, text: "" });
      continue;
    }
    expect({ target, error: JSON.parse(text).error }).toEqual({ target, error: expected.error });
    expect(typeof JSON.parse(text).message).toBe("string");
    expect(answerHead(answer)).toContain("content-type: application/json");
    heads.push(answerHead(answer));
  }
  return heads;
}
