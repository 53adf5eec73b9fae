import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type Client, Code, ConcordError } from "@concord/grpc";
import {
  type MultiwatcherService,
  type WatchModelRequest,
  WatchModelResponseSchema,
} from "@concord/proto/multiwatcher/v1/multiwatcher";
import { ModelCache } from "./model-cache";
import { followModel } from "./watch";

type Step = { results: number[]; fail?: ConcordError };

/** A WatchModel that plays one script per call and records each request's since_revision. */
function fakeClient(calls: Step[], opened: (bigint | undefined)[]) {
  return {
    watchModel(req: Partial<WatchModelRequest>, opts: { signal: AbortSignal }) {
      opened.push(req.from?.sinceRevision);
      const step = calls.shift();
      return (async function* () {
        if (!step) return yield* idle(opts.signal);
        for (const r of step.results)
          yield create(WatchModelResponseSchema, {
            result: {
              revision: BigInt(r),
              snapshot: req.from === undefined && r === step.results[0],
              logId: "l",
            },
          });
        if (step.fail) throw step.fail;
        yield* idle(opts.signal);
      })();
    },
  } as unknown as Client<typeof MultiwatcherService>;
}

/** An open stream with nothing to say: it ends (CANCELLED) only when the caller aborts, as the real client does. */
async function* idle(signal: AbortSignal): AsyncGenerator<never> {
  const cancelled = new ConcordError(Code.CANCELLED, "Cancelled", "cancelled");
  if (signal.aborted) throw cancelled;
  await new Promise((_, fail) => signal.addEventListener("abort", () => fail(cancelled), { once: true }));
}

test("a dropped stream resumes since the last revision; OUT_OF_RANGE starts again from a snapshot", async () => {
  const opened: (bigint | undefined)[] = [];
  const client = fakeClient(
    [
      { results: [10, 11], fail: new ConcordError(Code.UNAVAILABLE, "Unavailable", "connection dropped") },
      { results: [14], fail: new ConcordError(Code.OUT_OF_RANGE, "RevisionOutOfRange", "too old") },
      { results: [30] },
    ],
    opened,
  );
  const ac = new AbortController();
  const retries: string[] = [];
  const seen: number[] = [];
  for await (const r of followModel(client, "m", new ModelCache(), {
    signal: ac.signal,
    backoff: () => 0,
    onRetry: (e) => retries.push(e.kind),
  })) {
    seen.push(Number(r.revision));
    if (seen.length === 4) ac.abort();
  }
  assert.deepEqual(seen, [10, 11, 14, 30]);
  assert.deepEqual(opened, [undefined, 11n, undefined]);
  assert.deepEqual(retries, ["Unavailable"]);
});

test("a controller that cannot be reached at all is reported, not retried", async () => {
  const opened: (bigint | undefined)[] = [];
  const client = fakeClient(
    [{ results: [], fail: new ConcordError(Code.UNAVAILABLE, "Unavailable", "refused") }],
    opened,
  );
  await assert.rejects(async () => {
    for await (const _ of followModel(client, "m", new ModelCache(), {
      signal: new AbortController().signal,
    })) {
      // nothing arrives
    }
  }, /refused/);
  assert.equal(opened.length, 1);
});
