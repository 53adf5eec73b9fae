import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatGoDuration, isValidApplicationName, isValidUnitName } from "./validation";

describe("names", () => {
  it("accepts Juju application names", () => {
    for (const name of ["redis", "mysql-router", "a1", "wordpress-k8s", "a-b-c"]) {
      assert.ok(isValidApplicationName(name), name);
    }
  });

  it("rejects invalid application names", () => {
    for (const name of [
      "",
      "Redis",
      "1redis",
      "redis-1",
      "redis_db",
      "redis-",
      "-redis",
      "redis--x",
      "redis/0",
    ]) {
      assert.ok(!isValidApplicationName(name), name);
    }
  });

  it("accepts unit names with a number without leading zero", () => {
    for (const name of ["redis/0", "redis/10", "mysql-router/123"]) assert.ok(isValidUnitName(name), name);
    for (const name of ["redis", "redis/", "redis/01", "redis/-1", "Redis/0", "redis/0/1", "/0"]) {
      assert.ok(!isValidUnitName(name), name);
    }
  });
});

describe("formatGoDuration", () => {
  it("prints as Go's time.Duration does", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [-5000, "-5s"],
      [60_000, "1m0s"],
      [90_000, "1m30s"],
      [1500, "1.5s"],
      [250, "250ms"],
      [0.5, "500µs"],
      [3_600_000, "1h0m0s"],
      [5001, "5.001s"],
    ];
    for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text, `${ms} ms`);
  });
});
