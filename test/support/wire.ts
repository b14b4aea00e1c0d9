/** Raw HTTP/1.1 over a socket, for what a client sees on the wire whatever it sends. */
import { connect } from "node:net";

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
