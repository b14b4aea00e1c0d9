/**
 * `shardctl status` for people, from a fixed report: a node on a Galera cluster shows
 * `galera` as its database and a row per member (state, cluster size, the one in use and for
 * how long, why one may not be used), and a line for a node with members it may not use.
 */
import { describe, expect, test } from "bun:test";
import type { ClusterStatus, NodeStatus } from "../../src/client/status.ts";
import { renderStatus } from "../../src/cli-output/status-report.ts";

const RING = "1:0123456789abcdef";
const node = (name: string, port: number, galera: NodeStatus["galera"]): NodeStatus => ({
  name,
  url: `http://127.0.0.1:${port}`,
  up: true,
  ready: true,
  ring: RING,
  agreement: "agrees",
  records: 1200,
  version: "0.1.0",
  database: "mysql",
  galera,
  latencyMs: 12,
  problem: null,
  rebalance: null,
});

describe("shardctl status, a shard on a Galera cluster", () => {
  test("its members under the nodes: state, cluster size, in use since, and why one is not usable", () => {
    const status: ClusterStatus = {
      ring: RING,
      ok: true,
      at: "2026-12-04T20:00:00.000Z",
      nodes: [
        node("a", 5001, {
          member: "10.0.0.12:3306",
          since: "2026-12-04T19:57:55.000Z",
          members: [
            {
              address: "10.0.0.11:3306",
              state: "down",
              clusterSize: null,
              inUse: false,
              usable: false,
              problem: "is down: connect ECONNREFUSED 10.0.0.11:3306",
            },
            { address: "10.0.0.12:3306", state: "Synced", clusterSize: 2, inUse: true, usable: true, problem: null },
            { address: "10.0.0.13:3306", state: "Synced", clusterSize: 2, inUse: false, usable: true, problem: null },
          ],
        }),
        node("b", 5002, null),
      ],
    };
    expect(renderStatus(status)).toBe(
      [
        "node   address         state  ring                records  version  db      ms",
        "-----  --------------  -----  ------------------  -------  -------  ------  --",
        "a      127.0.0.1:5001  ready  1:0123456789abcdef    1,200  0.1.0    galera  12",
        "b      127.0.0.1:5002  ready  1:0123456789abcdef    1,200  0.1.0    mysql   12",
        "-----  --------------  -----  ------------------  -------  -------  ------  --",
        "total                                               2,400",
        "",
        "node  member          state   cluster  in use       problem",
        // 80 columns: the problem is cut (--wide shows it whole)
        "----  --------------  ------  -------  -----------  ----------------------------",
        "a     10.0.0.11:3306  down          -               is down: connect ECONNREFUS…",
        "a     10.0.0.12:3306  Synced        2  yes, 2m 05s",
        "a     10.0.0.13:3306  Synced        2",
        "node a: 1 of 3 database members not usable",
        "",
        `all 2 nodes up, ready and on ring ${RING}`,
      ].join("\n"),
    );
  });

  test("no member usable: none in use, and a line saying so; a plain shard alone shows no member table", () => {
    const down = { state: "down", clusterSize: null, inUse: false, usable: false, problem: "is down: no answer within 2000 ms (frozen, or overloaded?)" };
    const status: ClusterStatus = {
      ring: RING,
      ok: false,
      at: "2026-12-04T20:00:00.000Z",
      nodes: [
        node("a", 5001, {
          member: null,
          since: null,
          members: [
            { address: "db1:3306", ...down },
            { address: "db2:3306", ...down },
          ],
        }),
      ],
    };
    const text = renderStatus(status, { maxWidth: Number.POSITIVE_INFINITY });
    expect(text).toContain("a     db1:3306  down         -          is down: no answer within 2000 ms (frozen, or overloaded?)");
    expect(text).toContain("node a: no database member is usable");
    expect(renderStatus({ ...status, nodes: [node("b", 5002, null)] })).not.toContain("member");
  });
});
