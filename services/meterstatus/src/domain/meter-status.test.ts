import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  combineMeterStatus,
  isMoreSevere,
  parseMeterStatusCode,
  SEVERITY_ORDER,
  severity,
} from "./meter-status";

describe("meter status codes", () => {
  it("parses exactly, anything else is NOT AVAILABLE", () => {
    for (const code of SEVERITY_ORDER) assert.equal(parseMeterStatusCode(code), code);
    for (const bad of ["green", "", "PURPLE", "UNKNOWN", "NOT  SET"]) {
      assert.equal(parseMeterStatusCode(bad), "NOT AVAILABLE");
    }
  });

  it("ranks NOT AVAILABLE > RED > AMBER > NOT SET > GREEN", () => {
    assert.deepEqual(
      ["GREEN", "NOT SET", "AMBER", "RED", "NOT AVAILABLE"].map((c) => severity(parseMeterStatusCode(c))),
      [4, 3, 2, 1, 0],
    );
    assert.ok(isMoreSevere("NOT SET", "GREEN"));
    assert.ok(!isMoreSevere("NOT SET", "AMBER"));
  });

  it("combine returns a only when strictly more severe; a tie returns b with its info", () => {
    assert.deepEqual(combineMeterStatus({ code: "RED", info: "a" }, { code: "AMBER", info: "b" }), {
      code: "RED",
      info: "a",
    });
    assert.deepEqual(combineMeterStatus({ code: "GREEN", info: "a" }, { code: "GREEN", info: "b" }), {
      code: "GREEN",
      info: "b",
    });
    assert.deepEqual(combineMeterStatus({ code: "GREEN", info: "ok" }, { code: "NOT SET", info: "" }), {
      code: "NOT SET",
      info: "",
    });
  });
});
