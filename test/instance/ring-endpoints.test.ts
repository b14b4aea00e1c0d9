/**
 * A ring-aware instance's ring: X-Shard-Ring on every answer, GET /ring, PUT /ring
 * (newer / equal / older / invalid / admin only), the ring across restarts, and the
 * start-up errors. Real instances on SQLite files.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { parseRingFile } from "../../src/ring/ring-file.ts";
import { Ring } from "../../src/ring/ring.ts";
import { isLoopback } from "../../src/instance/admin.ts";
import { createApp } from "../../src/instance/app.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { RingStartError } from "../../src/instance/ring-guard.ts";
import { openStore } from "../../src/store/index.ts";
import { runCli } from "../support/cli.ts";
import { freePort } from "../support/net.ts";
import { localNodes, referenceOwner, ringOf } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const dir = mkdtempSync(join(tmpdir(), "shardctl-ring-endpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshDb = () => `sqlite:${join(dir, `db-${files++}.sqlite`)}`;

/** A ring of nodes a, b, c (a on a free port, b and c never started) and instance a on it. */
async function startA(options: { epoch?: number; vnodes?: number; adminToken?: string; db?: string } = {}) {
  const nodes = await localNodes(["a", "b", "c"]);
  const ring = ringOf(nodes, { epoch: options.epoch ?? 3, vnodes: options.vnodes ?? 160 });
  const port = Number(new URL(ring.node("a")!.url).port);
  const db = options.db ?? freshDb();
  const instance = await startInstance({ port, db, name: "a", log: false, ring: { ring, source: "--ring test.json" }, adminToken: options.adminToken });
  return { ring, instance, db, nodes };
}

/** `ring` with another epoch and/or vnodes: same node addresses. */
const variant = (ring: Ring, { epoch = ring.epoch, vnodes = ring.vnodes } = {}) => new Ring(ring.nodes, { vnodes, epoch });
const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });
/** The first id (from 1) that `name` owns, or does not own, under `ring` (reference ring). */
function idOwnedBy(ring: Ring, name: string, owned = true): string {
  const owner = referenceOwner(ring);
  for (let i = 1; ; i++) if ((owner(String(i)) === name) === owned) return String(i);
}

describe("an instance without a ring (the seed scenario)", () => {
  test("checks nothing, sends no X-Shard-Ring, and GET /ring is 404", async () => {
    const instance = await startInstance({ port: 0, db: freshDb(), name: "lonely", log: false });
    try {
      expect(instance.ring).toBeUndefined();
      for (const id of ["1", "2", "3", "4", "5"]) expect((await call(instance.url, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
      const r = await call(instance.url, "GET", "/ring");
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ error: "no_ring", message: expect.stringContaining("node lonely has no ring") });
      expect(r.headers.get("x-shard-ring")).toBeNull();
      expect(r.headers.get("x-shard-node")).toBe("lonely");
    } finally {
      await instance.stop();
    }
  });
});

describe("a ring-aware instance", () => {
  test("every answer carries X-Shard-Ring: ids, listing, health, errors, unknown routes", async () => {
    const { ring, instance } = await startA();
    try {
      const mine = idOwnedBy(ring, "a");
      const answers = [
        await call(instance.url, "POST", "/v1/expenses", seedRecord(mine)),
        await call(instance.url, "GET", `/v1/expenses/${mine}`),
        await call(instance.url, "GET", `/v1/expenses/${idOwnedBy(ring, "a", false)}`),
        await call(instance.url, "GET", "/v1/expenses"),
        await call(instance.url, "GET", "/healthz"),
        await call(instance.url, "GET", "/readyz"),
        await call(instance.url, "GET", "/ring"),
        await call(instance.url, "POST", "/v1/expenses", "{oops"),
        await call(instance.url, "POST", "/v1/expenses", { ...seedRecord(mine), id: "007" }),
        await call(instance.url, "GET", "/nowhere"),
        await call(instance.url, "PATCH", "/ring"),
      ];
      expect(answers.map((a) => a.status)).toEqual([201, 200, 421, 200, 200, 200, 200, 400, 422, 404, 405]);
      for (const a of answers) expect(a.headers.get("x-shard-ring")).toBe(ring.label);
    } finally {
      await instance.stop();
    }
  });

  test("GET /ring is a ring file: it parses back to the same ring", async () => {
    const { ring, instance } = await startA({ epoch: 7, vnodes: 50 });
    try {
      const r = await call(instance.url, "GET", "/ring");
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        epoch: 7,
        fingerprint: ring.fingerprint,
        vnodes: 50,
        nodes: ring.nodes.map((n) => ({ name: n.name, url: n.url, weight: 1 })),
        label: ring.label,
      });
      const file = parseRingFile(JSON.stringify(r.json));
      expect(new Ring(file.nodes, { vnodes: file.vnodes!, epoch: file.epoch }).label).toBe(ring.label);
    } finally {
      await instance.stop();
    }
  });

  test("the listing is never refused; a 421 tells a client with a newer ring that this instance is stale", async () => {
    const { ring, instance } = await startA();
    try {
      const other = idOwnedBy(ring, "a", false);
      const newer = variant(ring, { epoch: 9, vnodes: 10 }).label;
      const r = await call(instance.url, "DELETE", `/v1/expenses/${other}`, undefined, { "x-shard-ring": newer });
      expect(r.status).toBe(421);
      expect(r.json.message).toContain(`your ring ${newer} is newer than this instance's ${ring.label}: this instance is the stale one`);
      const same = await call(instance.url, "DELETE", `/v1/expenses/${other}`, undefined, { "x-shard-ring": ring.label });
      expect(same.json.message).not.toContain("stale");
      expect((await call(instance.url, "GET", "/v1/expenses?limit=5")).status).toBe(200);
    } finally {
      await instance.stop();
    }
  });
});

describe("PUT /ring", () => {
  test("a newer ring is adopted (saved, then in force): ownership, labels and GET /ring follow it", async () => {
    const { ring, instance, db } = await startA({ epoch: 3 });
    try {
      const next = variant(ring, { epoch: 4, vnodes: 7 });
      // an id a owns now and not under `next`, and one the other way round
      const before = referenceOwner(ring);
      const after = referenceOwner(next);
      const leaving = Array.from({ length: 500 }, (_, i) => String(i)).find((id) => before(id) === "a" && after(id) !== "a")!;
      const arriving = Array.from({ length: 500 }, (_, i) => String(i)).find((id) => before(id) !== "a" && after(id) === "a")!;
      expect((await call(instance.url, "POST", "/v1/expenses", seedRecord(arriving))).status).toBe(421);

      const put = await call(instance.url, "PUT", "/ring", doc(next));
      expect(put.status).toBe(200);
      expect(put.json).toEqual(doc(next));
      expect(put.headers.get("x-shard-ring")).toBe(next.label);
      expect(instance.ring?.label).toBe(next.label);
      expect((await call(instance.url, "GET", "/ring")).json.label).toBe(next.label);

      const moved = await call(instance.url, "POST", "/v1/expenses", seedRecord(leaving));
      expect([moved.status, moved.json.ring, moved.json.owner.name]).toEqual([421, next.label, after(leaving)]);
      const arrived = await call(instance.url, "POST", "/v1/expenses", seedRecord(arriving));
      expect([arrived.status, arrived.headers.get("x-shard-ring")]).toEqual([201, next.label]);

      // saved in the database
      const store = await openStore(db);
      try {
        expect((await store.loadRing())?.epoch).toBe(4);
      } finally {
        await store.close();
      }
    } finally {
      await instance.stop();
    }
  });

  test("an older or equal ring is refused with 409 naming both labels, and nothing changes", async () => {
    const { ring, instance } = await startA({ epoch: 3 });
    try {
      for (const offered of [variant(ring, { epoch: 2 }), variant(ring, { epoch: 3, vnodes: 8 }), ring, variant(ring, { epoch: 0, vnodes: 9 })]) {
        const r = await call(instance.url, "PUT", "/ring", doc(offered));
        expect({ offered: offered.label, status: r.status, error: r.json.error, ring: r.json.ring, got: r.json.offered }).toEqual({
          offered: offered.label,
          status: 409,
          error: "ring_not_newer",
          ring: ring.label,
          got: offered.label,
        });
        expect(r.json.message).toContain(`ring ${offered.label} is not newer than this instance's ring ${ring.label}`);
        if (offered === ring) expect(r.json.message).toContain("it is the ring this instance holds");
      }
      expect((await call(instance.url, "GET", "/ring")).json.label).toBe(ring.label);
    } finally {
      await instance.stop();
    }
  });

  test("a body that is not a valid ring is a 4xx naming the problem, and nothing changes", async () => {
    const { ring, instance, db } = await startA({ epoch: 3 });
    try {
      const nodes = ring.toJSON().nodes;
      const cases: [string, unknown, number, RegExp][] = [
        ["malformed JSON", '{"epoch": 5, "nodes": [', 400, /malformed JSON/],
        ["an array", [1, 2], 422, /must be a JSON object/],
        ["no epoch", { vnodes: 160, nodes }, 422, /"epoch" is required/],
        ["a negative epoch", { epoch: -4, nodes }, 422, /"epoch" must be a non-negative integer, got -4/],
        ["a fractional epoch", { epoch: 4.5, nodes }, 422, /"epoch" must be a non-negative integer, got 4.5/],
        ["no nodes", { epoch: 5, nodes: [] }, 422, /"nodes" must be a non-empty array/],
        ["an unknown key", { epoch: 5, nodes, owner: "me" }, 422, /unknown key "owner"/],
        ["a fingerprint that does not match", { epoch: 5, vnodes: 160, nodes, fingerprint: "0123456789abcdef" }, 422, /"fingerprint" .* does not match/],
        ["zero vnodes", { epoch: 5, vnodes: 0, nodes }, 422, /"vnodes" must be an integer/],
      ];
      for (const [what, body, status, message] of cases) {
        const r = await call(instance.url, "PUT", "/ring", body);
        expect({ what, status: r.status }).toEqual({ what, status });
        expect(r.json.message).toMatch(message);
      }
      expect((await call(instance.url, "GET", "/ring")).json.label).toBe(ring.label);
      const store = await openStore(db);
      try {
        expect((await store.loadRing())?.epoch).toBe(3);
      } finally {
        await store.close();
      }
    } finally {
      await instance.stop();
    }
  });

  test("a ring without this node is adopted: the node owns nothing and answers 421 for every id", async () => {
    const { ring, instance, nodes } = await startA({ epoch: 1 });
    try {
      const without = ringOf(
        nodes
          .split(",")
          .filter((n) => !n.startsWith("a="))
          .join(","),
        { epoch: 2 },
      );
      expect((await call(instance.url, "PUT", "/ring", doc(without))).status).toBe(200);
      const owner = referenceOwner(without);
      for (const id of ["1", "2", "3", "4", "5", "6"]) {
        const r = await call(instance.url, "GET", `/v1/expenses/${id}`);
        expect([r.status, r.json.owner?.name]).toEqual([421, owner(id)]);
        expect(r.json.message).toContain("this node (a) is not in that ring and owns no ids");
      }
      expect((await call(instance.url, "GET", "/v1/expenses")).status).toBe(200);
      expect(ring.node("a")).toBeDefined();
    } finally {
      await instance.stop();
    }
  });

  test("an instance without a ring adopts one and becomes ring-aware", async () => {
    const port = await freePort();
    const instance = await startInstance({ port, db: freshDb(), name: "a", log: false });
    try {
      const ring = ringOf(`a=127.0.0.1:${port},b=127.0.0.1:1`, { epoch: 0 });
      expect((await call(instance.url, "PUT", "/ring", doc(ring))).status).toBe(200);
      const other = idOwnedBy(ring, "b");
      expect((await call(instance.url, "POST", "/v1/expenses", seedRecord(other))).status).toBe(421);
    } finally {
      await instance.stop();
    }
  });
});

describe("admin requests", () => {
  test("with SHARDCTL_ADMIN_TOKEN: no token or a wrong one is 403 and changes nothing; the right one works", async () => {
    const { ring, instance } = await startA({ epoch: 1, adminToken: "s3cret" });
    try {
      const next = doc(variant(ring, { epoch: 2, vnodes: 5 }));
      const missing = await call(instance.url, "PUT", "/ring", next);
      expect([missing.status, missing.json.message]).toEqual([403, "PUT /ring is an admin request: send Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>"]);
      const wrong = await call(instance.url, "PUT", "/ring", next, { authorization: "Bearer s3cre" });
      expect([wrong.status, wrong.json.message]).toEqual([403, "PUT /ring: the bearer token is not this instance's SHARDCTL_ADMIN_TOKEN"]);
      expect((await call(instance.url, "GET", "/ring")).json.label).toBe(ring.label);
      const right = await call(instance.url, "PUT", "/ring", next, { authorization: "Bearer s3cret" });
      expect(right.status).toBe(200);
    } finally {
      await instance.stop();
    }
  });

  test("without a token: loopback peers only (the peer address decides, not a header)", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      const ring = ringOf("a=127.0.0.1:1,b=127.0.0.1:2", { epoch: 1 });
      const next = JSON.stringify(doc(variant(ring, { epoch: 2 })));
      for (const [peer, status] of [
        ["10.9.9.1", 403],
        ["192.0.2.2", 403],
        ["::ffff:10.0.0.1", 403],
        [undefined, 403],
        ["127.0.0.1", 200],
      ] as const) {
        const app = createApp({ store, name: "a", admin: { peerAddress: () => peer } });
        const res = await app.handle(new Request("http://localhost/ring", { method: "PUT", body: next, headers: { "x-forwarded-for": "127.0.0.1" } }));
        const body = (await res.json()) as { message?: string };
        expect({ peer, status: res.status }).toEqual({ peer, status });
        if (status === 403) expect(body.message).toContain(`from loopback addresses only, and this one came from ${peer ?? "an unknown address"}`);
      }
    } finally {
      await store.close();
    }
  });

  test("isLoopback: 127.0.0.0/8, ::1 and their mapped forms, nothing else", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) expect({ a, l: isLoopback(a) }).toEqual({ a, l: true });
    for (const a of ["10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "fd00::1", "", "localhost", "1127.0.0.1"]) {
      expect({ a, l: isLoopback(a) }).toEqual({ a, l: false });
    }
  });

  // A real socket from a non-loopback address: this machine's own address on another
  // interface (a connection to it comes from it).
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === "IPv4")?.address;
  if (!external) console.warn("[skip] admin over a non-loopback socket: this machine has no non-loopback IPv4 address");

  test.skipIf(!external)("over real sockets: a non-loopback peer is refused (403), a loopback peer is served", async () => {
    const instance = await startInstance({ port: 0, host: "0.0.0.0", db: freshDb(), name: "wide", log: false });
    try {
      const ring = ringOf(`wide=127.0.0.1:${instance.port}`, { epoch: 1 });
      const far = await call(`http://${external}:${instance.port}`, "PUT", "/ring", doc(ring));
      expect(far.status).toBe(403);
      expect(far.json.message).toContain(`this one came from ${external}`);
      expect((await call(`http://127.0.0.1:${instance.port}`, "GET", "/ring")).status).toBe(404);
      const near = await call(`http://127.0.0.1:${instance.port}`, "PUT", "/ring", doc(ring));
      expect(near.status).toBe(200);
    } finally {
      await instance.stop();
    }
  });
});

describe("the ring across restarts", () => {
  test("a restart keeps the newest ring: an older --ring is ignored with a warning; no ring option uses the stored one", async () => {
    const first = await startA({ epoch: 3 });
    const { ring, db } = first;
    const port = Number(new URL(ring.node("a")!.url).port);
    const newer = variant(ring, { epoch: 5, vnodes: 20 });
    expect((await call(first.instance.url, "PUT", "/ring", doc(newer))).status).toBe(200);
    await first.instance.stop();

    const restart = (given?: Ring) => startInstance({ port, db, name: "a", log: false, ring: given && { ring: given, source: "--ring old.json" } });
    let again: Instance = await restart(ring);
    try {
      expect(again.ring?.label).toBe(newer.label);
      expect(again.notes).toEqual([`warning: --ring old.json gives ring ${ring.label}, older than ring ${newer.label} in the database: using ${newer.label}`]);
      expect((await call(again.url, "GET", "/ring")).json.label).toBe(newer.label);
    } finally {
      await again.stop();
    }
    again = await restart();
    try {
      expect(again.ring?.label).toBe(newer.label);
      expect(again.notes).toEqual([`ring ${newer.label} from the database (no ring option given)`]);
    } finally {
      await again.stop();
    }
    const newest = variant(ring, { epoch: 6 });
    again = await restart(newest);
    try {
      expect(again.ring?.label).toBe(newest.label);
      expect(again.notes).toEqual([`ring ${newest.label} from --ring old.json replaces ring ${newer.label} in the database`]);
    } finally {
      await again.stop();
    }
  });

  test("another ring with the stored ring's epoch cannot start (RingStartError), and the database keeps its ring", async () => {
    const { ring, instance, db } = await startA({ epoch: 3 });
    await instance.stop();
    const port = Number(new URL(ring.node("a")!.url).port);
    const clash = variant(ring, { epoch: 3, vnodes: 99 });
    const error = await startInstance({ port, db, name: "a", log: false, ring: { ring: clash, source: "--nodes" } }).catch((e) => e);
    expect(error).toBeInstanceOf(RingStartError);
    expect(error.message).toContain(`--nodes gives ring ${clash.label}, but the database holds ring ${ring.label}: two different rings with one epoch`);
    const store = await openStore(db);
    try {
      expect((await store.loadRing())?.fingerprint).toBe(ring.fingerprint);
    } finally {
      await store.close();
    }
    // the port was released
    const back = await startInstance({ port, db, name: "a", log: false });
    await back.stop();
  });

  test("a name that is not a node of the ring given is a RingStartError, before or after binding", async () => {
    const ring = ringOf("a=127.0.0.1:5001,b=127.0.0.1:5002");
    const named = await startInstance({ port: await freePort(), db: freshDb(), name: "z", log: false, ring: { ring, source: "--nodes" } }).catch((e) => e);
    expect(named).toBeInstanceOf(RingStartError);
    expect(named.message).toBe(`--nodes: this instance's name "z" is not a node of its ring (a, b); give --name one of them, or a ring that has this node`);
    const byPort = await startInstance({ port: 0, db: freshDb(), log: false, ring: { ring, source: "--nodes" } }).catch((e) => e);
    expect(byPort).toBeInstanceOf(RingStartError);
    expect(byPort.message).toMatch(/this instance's name "127\.0\.0\.1:\d+" is not a node of its ring/);
  });
});

describe("shardctl serve with ring options", () => {
  test("a --name not in the ring is bad usage (exit 2) naming it", async () => {
    const r = await runCli("serve", "--port", "0", "--db", "sqlite::memory:", "--name", "z", "--nodes", "a=127.0.0.1:5001,b=127.0.0.1:5002");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--nodes: this instance's name "z" is not a node of its ring (a, b)`);
  });

  test("a ring file with a bad epoch is bad usage (exit 2) naming the file and the epoch", async () => {
    const path = join(dir, "bad-epoch.json");
    await Bun.write(path, JSON.stringify({ epoch: -1, nodes: ["a=127.0.0.1:5001"] }));
    const r = await runCli("serve", "--port", "0", "--db", "sqlite::memory:", "--name", "a", "--ring", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--ring ${path}: "epoch" must be a non-negative integer, got -1`);
  });
});
