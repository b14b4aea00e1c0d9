/**
 * Ring-aware instances for the tests: the ring is built before they start (ports
 * picked first), and expected owners come from the reference ring (test/ring/reference.ts),
 * never from the code under test.
 */
import { parseNodeList } from "../../src/ring/node.ts";
import { Ring } from "../../src/ring/ring.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { freePort } from "../support/net.ts";

export interface Answer {
  status: number;
  headers: Headers;
  json: any;
}

/** One HTTP request; the body is sent as JSON unless it is a string. */
export async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(url + path, { method, body: payload, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Free ports for `names`, as `name=127.0.0.1:port` nodes. */
export async function localNodes(names: readonly string[]): Promise<string> {
  const ports = await Promise.all(names.map(() => freePort()));
  return names.map((name, i) => `${name}=127.0.0.1:${ports[i]}`).join(",");
}

export function ringOf(nodeList: string, { vnodes = 160, epoch = 0 } = {}): Ring {
  return new Ring(parseNodeList(nodeList), { vnodes, epoch });
}

/** The owner of each id under `ring`, by the reference implementation. */
export function referenceOwner(ring: Ring): (id: string) => string {
  return refOwnerOf(
    ring.nodes.map((n) => ({ name: n.name, weight: n.weight })),
    ring.vnodes,
  );
}

export interface RingCluster {
  readonly ring: Ring;
  readonly instances: Map<string, Instance>;
  url(name: string): string;
  stop(): Promise<void>;
}

/** One instance per node of `ring`, on its address, each ring-aware with `ring`; `db(name)` names its database. */
export async function startRingCluster(
  ring: Ring,
  db: (name: string) => string,
  extra: { adminToken?: string; log?: (line: string) => void } = {},
): Promise<RingCluster> {
  const started = await Promise.allSettled(
    ring.nodes.map((n) => {
      const port = Number(new URL(n.url).port);
      return startInstance({
        port,
        db: db(n.name),
        name: n.name,
        log: extra.log ?? false,
        ring: { ring, source: "the test's ring" },
        adminToken: extra.adminToken,
      });
    }),
  );
  const instances = new Map(started.flatMap((r) => (r.status === "fulfilled" ? [[r.value.name, r.value] as const] : [])));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.allSettled([...instances.values()].map((s) => s.stop()));
    throw failed.reason;
  }
  return {
    ring,
    instances,
    url: (name) => instances.get(name)!.url,
    stop: async () => void (await Promise.allSettled([...instances.values()].map((s) => s.stop()))),
  };
}
