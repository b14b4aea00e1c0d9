import { describe, expect, test } from "bun:test";
import { describeStoreUrl, parseStoreUrl, redact } from "../../src/store/url.ts";
import { StoreUrlError } from "../../src/store/types.ts";
import { runCli } from "../support/cli.ts";

describe("redact", () => {
  test("hides everything between // and the last @, whatever the password holds", () => {
    const cases: [string, string][] = [
      ["mysql://root:secret@db:3306/x", "mysql://root:***@db:3306/x"],
      ["mysql://root:p@ss@db:3306/x", "mysql://root:***@db:3306/x"],
      ["mysql://root:pa/ss@db:3306/x", "mysql://root:***@db:3306/x"],
      ["mysql://root:a/b@c:d@db/x", "mysql://root:***@db/x"],
      ["mysql://root:p:w@db/x", "mysql://root:***@db/x"],
      ["mysql://root:%zz@db/x", "mysql://root:***@db/x"],
      // no password: nothing to hide
      ["mysql://root@db/x", "mysql://root@db/x"],
      ["mysql://db:3306/x", "mysql://db:3306/x"],
      // a "user" that cannot be one (holds / before a colon-less @): all of it is hidden
      ["mysql://sec/ret@db/x", "mysql://***@db/x"],
    ];
    for (const [url, shown] of cases) expect({ url, shown: redact(url) }).toEqual({ url, shown });
  });

  test("no message about a malformed URL shows any part of the password", () => {
    const password = "s3cr/et@pa:ss";
    for (const url of [
      `mysql://root:${password}@db:3306/x`,
      `mysql://root:${password}@db:3306/bad name`,
      `mysql://root:${password}@db:3306/x?bogus=1`,
      `mysql://root:${password}%zz@db:3306/x`,
    ]) {
      let message = "";
      try {
        parseStoreUrl(url);
      } catch (e) {
        expect(e).toBeInstanceOf(StoreUrlError);
        message = (e as Error).message;
      }
      expect(message).not.toBe("");
      for (const part of ["s3cr", "et", "pa:ss"]) expect({ url, message, leaked: message.includes(part) }).toEqual({ url, message, leaked: false });
    }
  });

  test("a malformed %-escape is a StoreUrlError naming the part, not a URIError", () => {
    expect(() => parseStoreUrl("mysql://root:%E0%A4%A@db/x")).toThrow(/the password has a malformed %-escape/);
    expect(() => parseStoreUrl("mysql://us%zzer:pw@db/x")).toThrow(StoreUrlError);
    expect(() => parseStoreUrl("mysql://root@db/x%E0")).toThrow(/database name has a malformed %-escape/);
    expect(parseStoreUrl("mysql://r%40t:p%25w@db/x")).toMatchObject({ user: "r@t", password: "p%w" });
  });

  test("serve --db with a bad escape exits 2 with a message, and the password is not in it", async () => {
    const r = await runCli("serve", "--port", "0", "--db", "mysql://root:hunter2%zz@127.0.0.1:1/x");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("malformed %-escape");
    expect(r.stderr).not.toContain("hunter2");
    expect(r.stderr).not.toContain("URIError");
  });
});

describe("mysql URL parameters", () => {
  test("pool, timeout and queue: defaults, values, and a usage error naming the parameter and the range", () => {
    expect(parseStoreUrl("mysql://root@db/x")).toMatchObject({ poolSize: 16, timeoutMs: 3000, queueLimit: 1000 });
    expect(parseStoreUrl("mysql://root@db/x?pool=2&timeout=500&queue=4")).toMatchObject({ poolSize: 2, timeoutMs: 500, queueLimit: 4 });
    expect(() => parseStoreUrl("mysql://root@db/x?timeout=50")).toThrow(
      'timeout (milliseconds a database operation may take) must be an integer from 100 to 600000, got "50"',
    );
    expect(() => parseStoreUrl("mysql://root@db/x?queue=0")).toThrow("queue (operations that may wait for a connection) must be an integer from 1 to 100000");
    expect(() => parseStoreUrl("mysql://root@db/x?pool=1000")).toThrow("pool (connections in the pool) must be an integer from 1 to 999");
    expect(() => parseStoreUrl("mysql://root@db/x?poool=3")).toThrow('unknown parameter "poool" (accepted: pool, timeout, queue)');
  });
});

describe("a MySQL URL naming several servers (a Galera cluster's members)", () => {
  test("the members in the URL's order, each with its port (3306 when left out); credentials and parameters as for one server", () => {
    expect(parseStoreUrl("mysql://app:p%40ss,w@db1:3307,db2,10.0.0.3:3309/x?pool=4")).toMatchObject({
      dialect: "mysql",
      members: [
        { host: "db1", port: 3307 },
        { host: "db2", port: 3306 },
        { host: "10.0.0.3", port: 3309 },
      ],
      user: "app",
      password: "p@ss,w",
      database: "x",
      poolSize: 4,
    });
    expect(parseStoreUrl("mysql://root@[::1]:3307,[fd00::2]/x")).toMatchObject({
      members: [
        { host: "::1", port: 3307 },
        { host: "fd00::2", port: 3306 },
      ],
    });
    // one server is one member, parsed as always
    expect(parseStoreUrl("mysql://root@db/x")).toMatchObject({ members: [{ host: "db", port: 3306 }] });
  });

  test("a malformed list is a StoreUrlError naming the member, never showing the password", () => {
    const bad: [string, string][] = [
      ["mysql://root:s3cret@db1:3307,,db3/x", 'member 2 of the server list, "", is not host:port'],
      ["mysql://root:s3cret@db1:3307,db2:99999/x", 'member 2 of the server list, "db2:99999", is not host:port'],
      ["mysql://root:s3cret@db1,db2:x/x", 'member 2 of the server list, "db2:x", is not host:port'],
      ["mysql://root:s3cret@db1:3307,/x", 'member 2 of the server list, "", is not host:port'],
      ["mysql://root:s3cret@db1:3307,db1:3307/x", "the server db1:3307 is listed twice"],
      ["mysql://root:s3cret@db1,db1:3306/x", "the server db1:3306 is listed twice"],
      [`mysql://root:s3cret@${Array.from({ length: 10 }, (_, i) => `db${i}`).join(",")}/x`, "10 servers; a shard's Galera cluster has at most 9"],
    ];
    for (const [url, message] of bad) {
      expect(() => parseStoreUrl(url, "SHARDCTL_DB")).toThrow(StoreUrlError);
      expect(() => parseStoreUrl(url, "SHARDCTL_DB")).toThrow(message);
      try {
        parseStoreUrl(url, "SHARDCTL_DB");
      } catch (e) {
        expect((e as Error).message).toStartWith('SHARDCTL_DB "mysql://root:***@');
        expect((e as Error).message).not.toContain("s3cret");
      }
    }
  });

  test("serve's start-up line names the members", () => {
    expect(describeStoreUrl("mysql://root:pw@db1:3307,db2/x")).toBe("mysql://root:***@db1:3307,db2/x (a Galera cluster of 2 members: db1:3307, db2:3306)");
  });
});
