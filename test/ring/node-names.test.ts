/**
 * Node names travel in the X-Shard-Node header, ring files and --nodes: only
 * letters, digits and . - _ : [ ] are accepted, everywhere a name enters the program,
 * and anything else is a usage error naming the character.
 */
import { describe, expect, test } from "bun:test";
import { NodeListError, parseNode, parseNodeList } from "../../src/ring/index.ts";
import { parseRingFile } from "../../src/ring/ring-file.ts";
import { runCli } from "../support/cli.ts";

const bad: [string, string][] = [
  ["a\r\nX-Evil: 1", "\r"],
  ["café", "é"],
  ["a b", " "],
  ["a/b", "/"],
  ["n\u0000", "\u0000"],
  ["東京", "東"],
  ["a😀", "😀"],
];

describe("node names", () => {
  test("the safe set is accepted, in every spelling the program itself makes", () => {
    for (const entry of ["a=h:1", "Node-1.eu_west:2=h:1", "127.0.0.1:5001", "[::1]:5001", "db.local:80", "[2001:db8::1]:80"]) {
      expect(() => parseNode(entry)).not.toThrow();
    }
  });

  test("--nodes: any other character is rejected, naming it", () => {
    for (const [name, char] of bad) {
      const message = (() => {
        try {
          parseNodeList(`${name}=127.0.0.1:1`);
          return "accepted";
        } catch (e) {
          expect(e).toBeInstanceOf(NodeListError);
          return (e as Error).message;
        }
      })();
      expect({ name, named: message.includes(`holds the character ${JSON.stringify(char)}`) }).toEqual({ name, named: true });
    }
  });

  test("ring files: the same check", () => {
    expect(() =>
      parseRingFile(
        JSON.stringify({
          nodes: [
            { name: "ok", host: "h", port: 1 },
            { name: "bad name", host: "h", port: 2 },
          ],
        }),
      ),
    ).toThrow('holds the character " "');
  });

  test("serve --name: exit 2 naming the character, before anything starts", async () => {
    for (const [name, char] of bad.filter(([n]) => !n.includes("\u0000"))) {
      const r = await runCli("serve", "--port", "0", "--db", "sqlite::memory:", "--name", name);
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.stderr).toContain(`--name: the node name ${JSON.stringify(name)} holds the character ${JSON.stringify(char)}`);
    }
  });

  test("client --nodes: exit 2 naming the character", async () => {
    const r = await runCli("client", "ring", "--nodes", "a=127.0.0.1:1,b\u00e9=127.0.0.1:2");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds the character "é" (U+00E9)');
  });
});
