import { describe, expect, test } from "bun:test";
import { Circuit } from "../../src/client/circuit.ts";
import { ShardRequestError } from "../../src/client/errors.ts";

const node = { name: "n3", url: "http://127.0.0.1:5003" };
const refused = { kind: "refused" as const, reason: "connection refused" };

/** A circuit on a clock the test moves by hand. */
function circuitAt(options: { openAfterMs?: number; minFailures?: number; probeAfterMs?: number } = {}) {
  let t = 0;
  const circuit = new Circuit(node, { ...options, now: () => t });
  return {
    circuit,
    at: (ms: number) => {
      t = ms;
    },
  };
}

const admitError = (c: Circuit, attemptsMade = 0): ShardRequestError | undefined => {
  try {
    c.admit(attemptsMade);
    return undefined;
  } catch (e) {
    return e as ShardRequestError;
  }
};

describe("Circuit", () => {
  test("failures for less than openAfterMs keep it closed, however many (a restart is outlasted)", () => {
    const { circuit, at } = circuitAt({ openAfterMs: 4000, minFailures: 3 });
    for (let ms = 0; ms < 4000; ms += 100) {
      at(ms);
      circuit.failed(refused, ms);
    }
    expect(circuit.snapshot()).toMatchObject({ state: "closed", failures: 40 });
    expect(admitError(circuit)).toBeUndefined();
  });

  test("an answer ends the run of failures: the 4 s count again from the next failure", () => {
    const { circuit, at } = circuitAt({ openAfterMs: 4000 });
    circuit.failed(refused, 0);
    at(3000);
    circuit.failed(refused, 3000);
    circuit.answered();
    at(5000);
    circuit.failed(refused, 4500);
    circuit.failed(refused, 5000);
    circuit.failed(refused, 5000);
    expect(circuit.isOpen).toBe(false);
    at(8500);
    circuit.failed(refused, 8500);
    expect(circuit.isOpen).toBe(true);
  });

  test("it opens once the failures have lasted openAfterMs and number minFailures; then requests fail unsent, naming the node and why", () => {
    const { circuit, at } = circuitAt({ openAfterMs: 4000, minFailures: 3 });
    circuit.failed(refused, 0);
    at(4100);
    circuit.failed(refused, 4100); // 4.1 s but only 2 failures
    expect(circuit.isOpen).toBe(false);
    circuit.failed(refused, 4100);
    expect(circuit.isOpen).toBe(true);
    const e = admitError(circuit)!;
    expect(e).toBeInstanceOf(ShardRequestError);
    expect([e.kind, e.unsent, e.attempts]).toEqual(["refused", true, 0]);
    expect(e.message).toBe("node n3 (http://127.0.0.1:5003): not sent: node down: connection refused, failing for 4.1 s, 3 attempts");
    expect(circuit.snapshot()).toMatchObject({ state: "open", unsent: 1 });
  });

  test("a timeout counts from when its attempt was sent: hung requests open it as their timeouts come in", () => {
    const { circuit, at } = circuitAt({ openAfterMs: 4000, minFailures: 3 });
    at(5000); // three requests sent at 0 ms time out at 5 s
    for (let i = 0; i < 3; i++) circuit.failed({ kind: "timeout", reason: "timeout: no answer within 5000 ms" }, 0);
    expect(circuit.isOpen).toBe(true);
  });

  test("a request that had made attempts before it opened gives up, and is not said to be unsent (its POST may be stored)", () => {
    const { circuit } = circuitAt();
    circuit.trip(refused);
    const e = admitError(circuit, 2)!;
    expect([e.kind, e.unsent, e.attempts]).toEqual(["refused", false, 2]);
    expect(e.reason).toBe("gave up after 2 attempts: node down: connection refused, found by the pre-flight check");
    expect(circuit.snapshot().unsent).toBe(0);
  });

  test("opening aborts the attempts in flight with the error to report", () => {
    const { circuit, at } = circuitAt({ openAfterMs: 0, minFailures: 1 });
    const signal = circuit.signal;
    at(10);
    circuit.failed(refused, 0);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as ShardRequestError).message).toContain("gave up: node down: connection refused");
  });

  test("trip opens it at once (a failed pre-flight check)", () => {
    const { circuit } = circuitAt();
    circuit.trip({ kind: "http", reason: "HTTP 503: not ready", status: 503 });
    const e = admitError(circuit)!;
    expect([e.kind, e.status, e.unsent]).toEqual(["http", 503, true]);
    expect(e.reason).toBe("not sent: node not ready: HTTP 503: not ready, found by the pre-flight check");
  });

  test("after probeAfterMs one request goes through; its answer closes the circuit, its failure opens it again", () => {
    const { circuit, at } = circuitAt({ probeAfterMs: 30_000 });
    circuit.trip(refused);
    at(29_999);
    expect(admitError(circuit)).toBeDefined();
    at(30_000);
    expect(admitError(circuit)).toBeUndefined(); // the probe
    expect(circuit.snapshot().state).toBe("probing");
    expect(admitError(circuit)).toBeDefined(); // only one
    circuit.failed(refused, 30_000);
    expect(circuit.snapshot().state).toBe("open");
    at(60_000);
    expect(admitError(circuit)).toBeUndefined();
    circuit.answered();
    expect(circuit.snapshot()).toMatchObject({ state: "closed", failures: 0 });
    expect(admitError(circuit)).toBeUndefined();
  });

  test("with a probe: a request probeAfterMs after the opening makes it ask the node's readiness; ready closes it, for the requests after", async () => {
    let t = 0;
    let asked = 0;
    let ready = false;
    const circuit = new Circuit(node, {
      probeAfterMs: 3000,
      now: () => t,
      probe: async () => {
        asked++;
        return ready;
      },
    });
    circuit.trip(refused);
    const aborted = circuit.signal;
    t = 2999;
    expect(admitError(circuit)?.unsent).toBe(true);
    expect(asked).toBe(0); // not yet: no probe before probeAfterMs
    t = 3000;
    expect(admitError(circuit)?.unsent).toBe(true); // this request asks, and still fails unsent
    expect(admitError(circuit)?.unsent).toBe(true); // one ask at a time
    await Bun.sleep(0);
    expect([asked, circuit.snapshot().state]).toEqual([1, "open"]);
    t = 4000;
    expect(admitError(circuit)?.unsent).toBe(true); // asked 1 s ago: not again yet
    await Bun.sleep(0);
    expect(asked).toBe(1);
    ready = true;
    t = 6000;
    expect(admitError(circuit)?.unsent).toBe(true);
    await Bun.sleep(0);
    expect([asked, circuit.snapshot().state, circuit.snapshot().failures]).toEqual([2, "closed", 0]);
    expect(admitError(circuit)).toBeUndefined();
    // the requests from now on are not aborted by the opening that is over
    expect([aborted.aborted, circuit.signal.aborted]).toEqual([true, false]);
  });

  test("with a probe that fails (throws), the circuit stays open and asks again at the next request after probeAfterMs", async () => {
    let t = 0;
    let calls = 0;
    const circuit = new Circuit(node, {
      probeAfterMs: 1000,
      now: () => t,
      probe: async () => {
        calls++;
        throw new Error("no answer");
      },
    });
    circuit.trip(refused);
    for (const ms of [1000, 1500, 2000, 3000]) {
      t = ms;
      admitError(circuit);
      await Bun.sleep(0);
    }
    expect([calls, circuit.snapshot().state]).toEqual([3, "open"]);
  });
});
