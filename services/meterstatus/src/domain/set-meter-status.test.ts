import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isMeterStatusError } from "./errors";
import {
  initialMeterStatus,
  planModelMeterStatus,
  planUnitMeterStatus,
  validateMeterStatusCode,
} from "./set-meter-status";

const alive = { name: "app/0", life: "alive" as const };

describe("SetMeterStatus", () => {
  it("accepts only GREEN, AMBER and RED", () => {
    for (const ok of ["GREEN", "AMBER", "RED"]) assert.equal(validateMeterStatusCode(ok), ok);
    for (const bad of ["NOT SET", "NOT AVAILABLE", "green", "", "this-is-not-a-valid-status"]) {
      assert.throws(
        () => validateMeterStatusCode(bad),
        (err) => isMeterStatusError(err, "NotValid") && err.message === `meter status "${bad}" not valid`,
      );
    }
  });

  it("does nothing when unchanged, updates otherwise", () => {
    assert.equal(planUnitMeterStatus(alive, { code: "GREEN", info: "x" }, "GREEN", "x"), undefined);
    assert.deepEqual(planUnitMeterStatus(alive, initialMeterStatus(), "AMBER", ""), {
      code: "AMBER",
      info: "",
    });
    assert.deepEqual(planUnitMeterStatus(alive, { code: "GREEN", info: "x" }, "GREEN", "y"), {
      code: "GREEN",
      info: "y",
    });
  });

  it("requires the unit to be alive", () => {
    assert.throws(
      () => planUnitMeterStatus({ name: "app/0", life: "dying" }, initialMeterStatus(), "RED", ""),
      (err) => isMeterStatusError(err, "UnitNotAlive"),
    );
  });

  it("validates the model's status the same way", () => {
    assert.throws(() => planModelMeterStatus(initialMeterStatus(), "PURPLE", ""), {
      message: 'meter status "PURPLE" not valid',
    });
    assert.deepEqual(planModelMeterStatus(initialMeterStatus(), "RED", "i"), { code: "RED", info: "i" });
  });
});
