import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DyingHookSource } from "./dying-source";
import { HookQueue } from "./hook-queue";
import { LiveHookSource } from "./live-source";
import { State } from "./state";
import { change } from "./testing";
import type { HookInfo, RelationUnitsChange } from "./types";

const fresh = () => new LiveHookSource(new State(1));
// Lets every pending promise callback run; a scheduling step, not a timed wait.
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const label = (h: HookInfo | undefined) =>
  h === undefined ? "done" : `${h.kind} ${h.remoteUnit}@${h.changeVersion}`;

/** An async stream whose items are pushed by the test. */
function stream(): {
  push(c: RelationUnitsChange): void;
  fail(e: Error): void;
  end(): void;
  iterable: AsyncIterable<RelationUnitsChange>;
} {
  const items: Array<{ value?: RelationUnitsChange; error?: Error; done?: boolean }> = [];
  let wake: (() => void) | undefined;
  const add = (item: (typeof items)[number]) => {
    items.push(item);
    wake?.();
  };
  return {
    push: (value) => add({ value }),
    fail: (error) => add({ error }),
    end: () => add({ done: true }),
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (items.length === 0) await new Promise<void>((r) => (wake = r));
          const item = items.shift()!;
          if (item.error) throw item.error;
          if (item.done) return;
          yield item.value!;
        }
      },
    },
  };
}

describe("HookQueue", () => {
  test("a waiting consumer gets the hook when an event arrives; pop happens on delivery", async () => {
    const source = fresh();
    const q = new HookQueue(source);
    const first = q.next();
    await flush();
    q.update(change({ "u/0": 0 }));
    assert.equal(label(await first), "relation-joined u/0@0");
    // The joined was popped, so the source now forces the changed.
    assert.equal(label(source.next()), "relation-changed u/0@0");
    q.update(change({ "u/0": 4 }));
    assert.equal(label(await q.next()), "relation-changed u/0@4");
  });

  test("events arriving while a hook runs are aggregated", async () => {
    const q = new HookQueue(fresh());
    q.update(change({ "u/0": 0 }));
    const seen: string[] = [];
    let n = 0;
    const done = q.run(async (hook) => {
      seen.push(label(hook));
      if (++n === 2) {
        q.update(change({ "u/0": 1 }));
        q.update(change({ "u/0": 2 }));
      }
      if (n === 3) q.close();
    });
    await done;
    assert.deepEqual(seen, ["relation-joined u/0@0", "relation-changed u/0@0", "relation-changed u/0@2"]);
  });

  test("feed: stream events reach the consumer, a stream error reaches it too", async () => {
    const q = new HookQueue(fresh());
    const s = stream();
    const fed = q.feed(s.iterable);
    s.push(change({ "u/0": 0 }));
    assert.equal(label(await q.next()), "relation-joined u/0@0");
    s.fail(new Error("stream reset"));
    await fed;
    assert.equal(q.closed, true);
    await assert.rejects(q.next(), /stream reset/);
  });

  test("feed: a bad baseline closes the queue with the error", async () => {
    const q = new HookQueue(fresh());
    const s = stream();
    const waiting = q.next();
    const fed = q.feed(s.iterable);
    s.push(change({}, ["u/0"]));
    await assert.rejects(waiting, /hook source watcher sent bad event/);
    await fed;
  });

  test("setSource switches to the dying source and wakes a waiting consumer", async () => {
    const q = new HookQueue(fresh());
    const waiting = q.next();
    await flush();
    q.setSource(new DyingHookSource(State.from({ relationId: 1, members: { "u/0": 3 } })));
    assert.equal(label(await waiting), "relation-departed u/0@3");
    assert.equal(label(await q.next()), "relation-broken @0");
  });

  test("close ends iteration; only one consumer may wait", async () => {
    const q = new HookQueue(fresh());
    const waiting = q.next();
    await assert.rejects(q.next(), /already waiting/);
    q.close();
    assert.equal(await waiting, undefined);
    const all: HookInfo[] = [];
    for await (const h of q) all.push(h);
    assert.deepEqual(all, []);
  });
});
