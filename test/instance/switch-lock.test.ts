import { describe, expect, test } from "bun:test";
import { SwitchLock, SwitchTimeout } from "../../src/instance/switch-lock.ts";

/** A promise and the function that settles it, for holding work open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe("SwitchLock", () => {
  test("requests run together; a switch waits for those in flight, and requests that come meanwhile wait for it", async () => {
    const lock = new SwitchLock();
    const events: string[] = [];
    const first = gate();
    const r1 = lock.shared(async () => {
      events.push("r1 start");
      await first.opened;
      events.push("r1 end");
    });
    const r2 = lock.shared(async () => void events.push("r2"));
    await r2;
    expect(lock.inFlight).toBe(1);
    const sw = lock.exclusive(5_000, async () => void events.push("switch"));
    const r3 = lock.shared(async () => void events.push("r3"));
    await Bun.sleep(20);
    // r3 came after the switch began waiting: it has not run, nor has the switch
    expect(events).toEqual(["r1 start", "r2"]);
    first.open();
    await Promise.all([r1, sw, r3]);
    expect(events).toEqual(["r1 start", "r2", "r1 end", "switch", "r3"]);
  });

  test("switches run one at a time, in order", async () => {
    const lock = new SwitchLock();
    const events: string[] = [];
    const slow = gate();
    const a = lock.exclusive(5_000, async () => {
      events.push("a start");
      await slow.opened;
      events.push("a end");
    });
    const b = lock.exclusive(5_000, async () => void events.push("b"));
    await Bun.sleep(10);
    slow.open();
    await Promise.all([a, b]);
    expect(events).toEqual(["a start", "a end", "b"]);
  });

  test("a switch that waits too long gives up without running, and the queued requests go on", async () => {
    const lock = new SwitchLock();
    const stuck = gate();
    const r1 = lock.shared(() => stuck.opened);
    let ran = false;
    const sw = lock.exclusive(50, async () => {
      ran = true;
    });
    const r2 = lock.shared(async () => "r2 ran");
    const error = await sw.catch((e) => e);
    expect(error).toBeInstanceOf(SwitchTimeout);
    expect((error as SwitchTimeout).inFlight).toBe(1);
    expect(ran).toBe(false);
    expect(await r2).toBe("r2 ran");
    stuck.open();
    await r1;
    expect(lock.inFlight).toBe(0);
  });

  test("a request or switch that throws releases the lock", async () => {
    const lock = new SwitchLock();
    await expect(lock.shared(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(lock.exclusive(1_000, async () => Promise.reject(new Error("bang")))).rejects.toThrow("bang");
    expect(await lock.exclusive(1_000, async () => "free")).toBe("free");
    expect(await lock.shared(async () => "free too")).toBe("free too");
  });
});
