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
interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  entrypoint?: unknown;
  profiles?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
}
const compose = Bun.YAML.parse(await Bun.file(join(root, "compose.yml")).text()) as { services: Record<string, Service> };
const services = compose.services;
/** The services `docker compose up` starts (no profile), and those of the profile `ha`. */
const plain = Object.keys(services).filter((s) => services[s]!.profiles === undefined);
const ha = Object.keys(services).filter((s) => services[s]!.profiles?.includes("ha"));
const shards = plain.filter((s) => services[s]!.environment?.SHARDCTL_DB !== undefined);
/** ${VAR:-default} as compose expands it without the variable set. */
const expand = (text: string) => text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

describe("compose.yml", () => {
  test("three instances, each named by SHARDCTL_NAME, as the client's SHARDCTL_NODES names them", () => {
    expect(shards).toEqual(["shard1", "shard2", "shard3"]);
    const nodes = parseNodeList(services.client!.environment!.SHARDCTL_NODES!);
    expect(nodes.map((n) => n.name)).toEqual(shards.map((s) => services[s]!.environment!.SHARDCTL_NAME!));
    for (const node of nodes) expect(node.url).toBe(`http://${node.name}:5001`);
  });

  test("each instance logs in to its own MariaDB 10.11 as its own user, not root", () => {
    for (const shard of shards) {
      const url = expand(services[shard]!.environment!.SHARDCTL_DB!);
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

describe("compose.yml, profile ha: each shard on three Galera members", () => {
  const haShards = ha.filter((s) => services[s]!.environment?.SHARDCTL_DB !== undefined);
  const members = ha.filter((s) => services[s]!.environment?.GALERA_CLUSTER !== undefined);
  const env = (s: string) => services[s]!.environment!;

  test("beside the plain setup: docker compose up starts what it did, and every service the profile adds is in it alone", () => {
    expect(plain.sort()).toEqual(["client", "mariadb1", "mariadb2", "mariadb3", "router", "shard1", "shard2", "shard3"]);
    expect(haShards).toEqual(["ha-shard1", "ha-shard2", "ha-shard3"]);
    expect(members).toHaveLength(9);
    expect(ha.sort()).toEqual([...members, ...haShards, "ha-client"].sort());
    // on ports of their own
    const ports = [...plain, ...ha].flatMap((s) => (services[s]!.ports ?? []).map((p) => p.split(":").slice(0, 2).join(":")));
    expect(new Set(ports).size).toBe(ports.length);
  });

  test("each instance lists its cluster's three members, logs in as its own user (not root), and waits until they are synced", () => {
    const users = new Set<string>();
    for (const shard of haShards) {
      const target = parseStoreUrl(expand(env(shard).SHARDCTL_DB!), "SHARDCTL_DB");
      if (target.dialect !== "mysql") throw new Error(`${shard}: not a MySQL URL`);
      expect(target.members).toHaveLength(3);
      const cluster = new Set(target.members.map((m) => env(m.host).GALERA_CLUSTER));
      expect({ shard, clusters: cluster.size }).toEqual({ shard, clusters: 1 });
      for (const m of target.members) {
        expect({ shard, member: m.host, port: m.port, image: services[m.host]!.image }).toEqual({ shard, member: m.host, port: 3306, image: "mariadb:10.11" });
        expect({ shard, user: target.user, database: target.database }).toEqual({
          shard,
          user: env(m.host).MARIADB_USER!,
          database: env(m.host).MARIADB_DATABASE!,
        });
        expect(env(m.host).GALERA_MEMBERS!.split(",")).toEqual(target.members.map((x) => x.host));
        expect(services[shard]!.depends_on![m.host]).toEqual({ condition: "service_healthy" });
      }
      expect(target.user).not.toBe("root");
      users.add(target.user);
    }
    expect(users.size).toBe(3);
  });

  test("one member of each cluster bootstraps it (--wsrep-new-cluster, only on a new volume or when Galera marked it safe); the others join it once it is healthy", () => {
    const clusters = new Map<string, string[]>();
    for (const m of members) clusters.set(env(m).GALERA_CLUSTER!, [...(clusters.get(env(m).GALERA_CLUSTER!) ?? []), m]);
    expect(clusters.size).toBe(3);
    for (const [cluster, list] of clusters) {
      const first = list.filter((m) => env(m).GALERA_BOOTSTRAP === "yes");
      expect({ cluster, bootstraps: first }).toEqual({ cluster, bootstraps: [list[0]!] });
      for (const m of list) {
        expect(env(m).GALERA_NODE).toBe(m);
        if (m !== first[0]) {
          expect({ m, bootstrap: env(m).GALERA_BOOTSTRAP }).toEqual({ m, bootstrap: "no" });
          expect(services[m]!.depends_on).toEqual({ [first[0]!]: { condition: "service_healthy" } });
        }
      }
    }
    const script = (services[members[0]!]!.entrypoint as string[])[2]!;
    expect(script).toStartWith(
      "if [ \"$$GALERA_BOOTSTRAP\" = yes ] && { [ ! -e /var/lib/mysql/grastate.dat ] || grep -q '^safe_to_bootstrap: *1' /var/lib/mysql/grastate.dat; }; then set -- --wsrep-new-cluster; fi;",
    );
    for (const option of [
      "--wsrep-on=ON",
      "--wsrep-provider=/usr/lib/galera/libgalera_smm.so",
      "--binlog-format=ROW",
      "--innodb-autoinc-lock-mode=2",
      "--wsrep-sst-method=mariabackup",
    ]) {
      expect(script).toContain(option);
    }
    for (const m of members) expect(services[m]!.entrypoint).toEqual(services[members[0]!]!.entrypoint);
  });

  test("ring-aware: the ha instances and their client share one ring of ha1..ha3, each its node on port 5001", () => {
    const labels = new Set<string>();
    for (const shard of haShards) {
      const inForce = ringInForce({}, env(shard));
      expect(inForce.ring.nodes.map((n) => n.name)).toEqual(["ha1", "ha2", "ha3"]);
      expect(nodeAddress(inForce.ring.node(env(shard).SHARDCTL_NAME!)!)).toEqual({ host: shard, port: 5001 });
      labels.add(inForce.ring.label);
    }
    labels.add(ringInForce({}, env("ha-client")).ring.label);
    expect(labels.size).toBe(1);
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
