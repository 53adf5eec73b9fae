import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { authorizeMeterStatusAccess, canAccessMeterStatus, toAgentMeterStatus } from "./agent-view";
import { unitEffectiveMeterStatus } from "./effective-status";
import { isMeterStatusError } from "./errors";
import { meterStatusDisplay } from "./status-display";

const ok = { code: "GREEN" as const, info: "ok" };
const redMm = { code: "RED" as const, info: "failed to send metrics, exceeded grace period" };

describe("effective unit status", () => {
  it("returns a RED metrics manager as it is, even over a RED unit or a missing one", () => {
    assert.deepEqual(
      unitEffectiveMeterStatus({
        unitName: "a/0",
        metricsManager: redMm,
        unit: { code: "RED", info: "Unit" },
      }),
      { status: redMm },
    );
    assert.deepEqual(unitEffectiveMeterStatus({ unitName: "a/0", metricsManager: redMm, unit: undefined }), {
      status: redMm,
    });
  });

  it("combines otherwise, the unit winning ties", () => {
    assert.deepEqual(
      unitEffectiveMeterStatus({ unitName: "a/0", metricsManager: ok, unit: { code: "GREEN", info: "Unit" } })
        .status,
      { code: "GREEN", info: "Unit" },
    );
    assert.deepEqual(
      unitEffectiveMeterStatus({ unitName: "a/0", metricsManager: ok, unit: { code: "NOT SET", info: "" } })
        .status,
      { code: "NOT SET", info: "" },
    );
  });

  it("is NOT AVAILABLE with an error when the unit is gone or the metrics manager fails", () => {
    const gone = unitEffectiveMeterStatus({ unitName: "a/0", metricsManager: ok, unit: undefined });
    assert.deepEqual(gone.status, { code: "NOT AVAILABLE", info: "" });
    assert.ok(isMeterStatusError(gone.error, "NotFound"));
    assert.equal(gone.error.message, "cannot retrieve meter status for unit a/0: not found");
    const failed = unitEffectiveMeterStatus({ unitName: "a/0", metricsManager: new Error("db"), unit: ok });
    assert.equal(failed.status.code, "NOT AVAILABLE");
    assert.equal(failed.error?.message, "db");
  });
});

describe("agent view", () => {
  it("maps NOT SET and NOT AVAILABLE, passes the rest through", () => {
    assert.deepEqual(toAgentMeterStatus({ code: "NOT SET", info: "x" }), { code: "AMBER", info: "not set" });
    assert.deepEqual(toAgentMeterStatus({ code: "NOT AVAILABLE", info: "x" }), {
      code: "RED",
      info: "not available",
    });
    assert.deepEqual(toAgentMeterStatus({ code: "GREEN", info: "x" }), { code: "GREEN", info: "x" });
  });

  it("lets a unit read itself and an application its units, nothing else", () => {
    assert.ok(canAccessMeterStatus({ kind: "unit", unitName: "my-app/0" }, "my-app/0"));
    assert.ok(!canAccessMeterStatus({ kind: "unit", unitName: "my-app/0" }, "my-app/1"));
    assert.ok(canAccessMeterStatus({ kind: "application", applicationName: "my-app" }, "my-app/3"));
    assert.ok(!canAccessMeterStatus({ kind: "application", applicationName: "my" }, "my-app/3"));
    assert.throws(
      () => authorizeMeterStatusAccess({ kind: "machine", name: "0" }, "my-app/0"),
      (err) => isMeterStatusError(err, "Unauthorized") && err.message === "permission denied",
    );
  });
});

describe("status display", () => {
  it("shows only GREEN, AMBER and RED", () => {
    assert.deepEqual(meterStatusDisplay({ code: "AMBER", info: "y" }), { color: "amber", message: "y" });
    assert.equal(meterStatusDisplay({ code: "NOT SET", info: "" }), undefined);
    assert.equal(meterStatusDisplay({ code: "NOT AVAILABLE", info: "" }), undefined);
  });
});
