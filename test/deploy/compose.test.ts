/**
 * compose.yml and the Dockerfile run what the tests cover and say what serve reads:
 * MariaDB 10.11, one non-root database user per instance, node names through
 * SHARDCTL_NAME that match the client's SHARDCTL_NODES, one build of the shared image.
 * (No Docker engine here: .ci/run checks the file with `docker-compose config -q`.)
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ringInForce } from "../../src/commands/_ring.ts";
import { nodeAddress, parseNodeList } from "../../src/ring/node.ts";
import { parseStoreUrl } from "../../src/store/url.ts";

const root = join(import.meta.dir, "../..");
const compose = Bun.YAML.parse(await Bun.file(join(root, "compose.yml")).text()) as {
  services: Record<string, { image?: string; build?: unknown; command?: unknown; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
};
const services = compose.services;
const shards = Object.keys(services).filter((s) => services[s]!.environment?.SHARDCTL_DB !== undefined);

describe("compose.yml", () => {
  test("three instances, each named by SHARDCTL_NAME, as the client's SHARDCTL_NODES names them", () => {
    expect(shards).toEqual(["shard1", "shard2", "shard3"]);
    const nodes = parseNodeList(services.client!.environment!.SHARDCTL_NODES!);
    expect(nodes.map((n) => n.name)).toEqual(shards.map((s) => services[s]!.environment!.SHARDCTL_NAME!));
    for (const node of nodes) expect(node.url).toBe(`http://${node.name}:5001`);
  });

  test("each instance logs in to its own MariaDB 10.11 as its own user, not root", () => {
    for (const shard of shards) {
      // ${VAR:-default} as compose expands it without the variable set
      const url = services[shard]!.environment!.SHARDCTL_DB!.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");
      const target = parseStoreUrl(url, "SHARDCTL_DB");
      if (target.dialect !== "mysql") throw new Error(`${shard}: not a MySQL URL`);
      const database = services[target.members[0]!.host]!;
      expect({ shard, image: database.image }).toEqual({ shard, image: "mariadb:10.11" });
      expect(target.user).not.toBe("root");
      expect({ shard, user: target.user, database: target.database }).toEqual({
        shard,
        user: database.environment!.MARIADB_USER!,
        database: database.environment!.MARIADB_DATABASE!,
      });
      expect(services[shard]!.depends_on).toHaveProperty(target.members[0]!.host);
    }
    const users = shards.map((s) => services[s]!.environment!.SHARDCTL_DB!.split("//")[1]!.split(":")[0]);
    expect(new Set(users).size).toBe(3);
  });

  test("ring-aware: the instances, the router and the client share one ring, and each instance is its node on port 5001", () => {
    const labels = new Set<string>();
    for (const shard of shards) {
      const env = services[shard]!.environment!;
      const inForce = ringInForce({}, env);
      expect({ shard, isDefault: inForce.isDefault }).toEqual({ shard, isDefault: false });
      const node = inForce.ring.node(env.SHARDCTL_NAME!);
      expect({ shard, node: node && nodeAddress(node) }).toEqual({ shard, node: { host: shard, port: 5001 } });
      labels.add(inForce.ring.label);
    }
    for (const s of ["router", "client"]) labels.add(ringInForce({}, services[s]!.environment ?? {}).ring.label);
    expect(labels.size).toBe(1);
    expect(String(services.client!.command)).toContain("shardctl ring check && shardctl client run");
  });

  test("the image is built once and shared", () => {
    const built = Object.keys(services).filter((s) => services[s]!.build !== undefined);
    expect(built).toHaveLength(1);
    for (const s of [...shards, "client"]) expect(services[s]!.image).toBe("shardctl:local");
  });

  test("the README's compose command exits with the client's status", async () => {
    const readme = await Bun.file(join(root, "README.md")).text();
    expect(readme.includes("docker compose up --build --exit-code-from client")).toBe(true);
  });
});

describe("Dockerfile", () => {
  test("serve listens on every address of the container through SHARDCTL_HOST/SHARDCTL_PORT and takes its name from SHARDCTL_NAME", async () => {
    const dockerfile = await Bun.file(join(root, "Dockerfile")).text();
    expect(dockerfile).toContain("ENV SHARDCTL_HOST=0.0.0.0 SHARDCTL_PORT=5001");
    expect(dockerfile).toContain('CMD ["serve"]');
    expect(dockerfile).toContain("-e SHARDCTL_NAME=");
  });
});
