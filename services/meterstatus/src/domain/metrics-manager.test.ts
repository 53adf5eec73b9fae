import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isMeterStatusError } from "./errors";
import {
  applyCollectorGracePeriod,
  DEFAULT_GRACE_PERIOD_MS,
  metricsManagerStatus,
  newMetricsManager,
  recordFailedSend,
  recordSuccessfulSend,
  setGracePeriod,
} from "./metrics-manager";

const day = 86_400_000;
const now = 1_700_000_000_000;

describe("metrics manager", () => {
  it("is GREEN ok below three consecutive failures", () => {
    let s = recordSuccessfulSend(newMetricsManager(), now - 30 * day);
    s = recordFailedSend(recordFailedSend(s));
    assert.deepEqual(metricsManagerStatus(s, now), { code: "GREEN", info: "ok" });
  });

  it("turns AMBER at three failures and RED once the grace period (inclusive) also passed", () => {
    const s = recordFailedSend(
      recordFailedSend(recordFailedSend(recordSuccessfulSend(newMetricsManager(), now))),
    );
    assert.deepEqual(metricsManagerStatus(s, now), { code: "AMBER", info: "failed to send metrics" });
    assert.equal(metricsManagerStatus(s, now + DEFAULT_GRACE_PERIOD_MS - 1).code, "AMBER");
    assert.deepEqual(metricsManagerStatus(s, now + DEFAULT_GRACE_PERIOD_MS), {
      code: "RED",
      info: "failed to send metrics, exceeded grace period",
    });
  });

  it("is RED at once after three failures with no successful send", () => {
    const s = recordFailedSend(recordFailedSend(recordFailedSend(newMetricsManager())));
    assert.equal(metricsManagerStatus(s, now).code, "RED");
  });

  it("resets on a successful send", () => {
    const s = recordFailedSend(recordFailedSend(recordFailedSend(newMetricsManager())));
    assert.deepEqual(recordSuccessfulSend(s, now), {
      lastSuccessfulSend: now,
      consecutiveErrors: 0,
      gracePeriodMs: DEFAULT_GRACE_PERIOD_MS,
    });
  });

  it("takes a new positive collector grace period and rejects a negative one", () => {
    const s = newMetricsManager();
    assert.equal(applyCollectorGracePeriod(s, 0), s);
    assert.equal(applyCollectorGracePeriod(s, DEFAULT_GRACE_PERIOD_MS), s);
    assert.equal(applyCollectorGracePeriod(s, day).gracePeriodMs, day);
    assert.throws(
      () => setGracePeriod(s, -1),
      (err) => isMeterStatusError(err, "NotValid"),
    );
    assert.throws(
      () => applyCollectorGracePeriod(s, -1),
      (err) => isMeterStatusError(err, "NotValid"),
    );
  });
});
