import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RelationError } from "./errors";
import { parseEndpointArg, parseRelationKey, relationKey } from "./identifier";
import { inferEndpoints } from "./inference";
import { settingsHash, settingsVersion, splitSettings } from "./settings";
import { checkStatusTransition } from "./status";
import type { ApplicationForInference, Endpoint } from "./types";
import {
  basesCompatible,
  parseBase,
  validateCIDR,
  validateUnitName,
  withImplicitJujuInfo,
} from "./validation";

const ep = (
  name: string,
  role: Endpoint["role"],
  iface: string,
  scope: Endpoint["scope"] = "global",
): Endpoint => ({
  name,
  role,
  interface: iface,
  scope,
  capacity: 0,
  optional: false,
});
const app = (name: string, endpoints: Endpoint[], subordinate = false): ApplicationForInference => ({
  name,
  subordinate,
  endpoints,
});
const kindOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as RelationError).kind;
  }
  return "none";
};

describe("endpoint identifiers and keys", () => {
  test("app, app:endpoint and app: parse; three parts is an error", () => {
    assert.deepEqual(parseEndpointArg("wp"), { application: "wp", endpoint: "", raw: "wp" });
    assert.deepEqual(parseEndpointArg("wp:db"), { application: "wp", endpoint: "db", raw: "wp:db" });
    assert.equal(parseEndpointArg("wp:").endpoint, "");
    assert.throws(() => parseEndpointArg("a:b:c"), /expected endpoint of form/);
  });

  test("keys put the requirer first; bad role combinations are RelationKeyNotValid", () => {
    const key = relationKey([
      { application: "mysql", endpoint: "server", role: "provider" },
      { application: "wp", endpoint: "db", role: "requirer" },
    ]);
    assert.equal(key.key, "wp:db mysql:server");
    assert.equal(relationKey([{ application: "db", endpoint: "p", role: "peer" }]).key, "db:p");
    assert.equal(
      kindOf(() => relationKey([])),
      "RelationKeyNotValid",
    );
    assert.equal(
      kindOf(() => relationKey([{ application: "wp", endpoint: "db", role: "requirer" }])),
      "RelationKeyNotValid",
    );
    assert.equal(
      kindOf(() =>
        relationKey([
          { application: "wp", endpoint: "db", role: "requirer" },
          { application: "m", endpoint: "s", role: "requirer" },
        ]),
      ),
      "RelationKeyNotValid",
    );
  });

  test("key strings: one token is a peer, two are requirer then provider", () => {
    assert.deepEqual(
      parseRelationKey("wp:db  mysql:server").map((i) => i.role),
      ["requirer", "provider"],
    );
    assert.deepEqual(
      parseRelationKey("db:p").map((i) => i.role),
      ["peer"],
    );
    for (const bad of ["", "a b c", "wp", "wp:db:x m:s"])
      assert.equal(
        kindOf(() => parseRelationKey(bad)),
        "RelationKeyNotValid",
        bad,
      );
  });
});

describe("inference", () => {
  const wp = app("wp", [ep("db", "requirer", "mysql"), ep("website", "provider", "http")]);
  const mysql = app("mysql", [ep("server", "provider", "mysql")]);

  test("a unique pair is found in side order", () => {
    const [a, b] = inferEndpoints(parseEndpointArg("mysql"), mysql, parseEndpointArg("wp"), wp);
    assert.equal(`${a.application}:${a.name} ${b.application}:${b.name}`, "mysql:server wp:db");
  });

  test("missing candidates, no pair, several pairs", () => {
    assert.equal(
      kindOf(() => inferEndpoints(parseEndpointArg("x"), undefined, parseEndpointArg("wp"), wp)),
      "RelationEndpointNotFound",
    );
    assert.equal(
      kindOf(() => inferEndpoints(parseEndpointArg("wp:website"), wp, parseEndpointArg("mysql"), mysql)),
      "CompatibleEndpointsNotFound",
    );
    const two = app("two", [ep("a", "provider", "mysql"), ep("b", "provider", "mysql")]);
    assert.throws(
      () => inferEndpoints(parseEndpointArg("wp"), wp, parseEndpointArg("two"), two),
      (e: RelationError) =>
        e.kind === "AmbiguousRelation" &&
        e.message.includes('cannot relate endpoints "wp" and "two"') &&
        e.message.includes('"wp two" could refer to "wp:db two:a"; "wp:db two:b"'),
    );
  });

  test("container scope needs a subordinate; implicit juju-info is an ordinary candidate", () => {
    const p1 = app("p1", [ep("c", "provider", "ntp", "container")]);
    const p2 = app("p2", [ep("c", "requirer", "ntp")]);
    assert.equal(
      kindOf(() => inferEndpoints(parseEndpointArg("p1"), p1, parseEndpointArg("p2"), p2)),
      "CompatibleEndpointsNotFound",
    );
    const sub = app("ntp", [ep("juju-info", "requirer", "juju-info", "container")], true);
    const principal = app("ubuntu", withImplicitJujuInfo([]));
    const [a, b] = inferEndpoints(parseEndpointArg("ntp"), sub, parseEndpointArg("ubuntu"), principal);
    assert.equal(`${a.name} ${b.name}`, "juju-info juju-info");
  });
});

describe("settings", () => {
  test("hash is sha256 of sorted 'key value ' entries; version changes with it", () => {
    const h = settingsHash({ b: "2", a: "1" });
    assert.equal(h, settingsHash({ a: "1", b: "2" }));
    assert.notEqual(settingsVersion(h), settingsVersion(settingsHash({ a: "1" })));
    assert.equal(settingsVersion(undefined), 0n);
  });

  test("empty values are deletions", () => {
    assert.deepEqual(splitSettings({ a: "1", b: "" }), { set: { a: "1" }, unset: ["b"] });
  });
});

describe("status transitions", () => {
  test("the spec's table", () => {
    assert.equal(checkStatusTransition("joining", "joined", "", ""), "");
    assert.equal(
      kindOf(() => checkStatusTransition("joined", "joining", "", "")),
      "RelationStatusTransitionNotValid",
    );
    assert.equal(
      kindOf(() => checkStatusTransition("broken", "joined", "", "")),
      "RelationStatusTransitionNotValid",
    );
    assert.equal(checkStatusTransition("suspended", "broken", "", ""), "");
    assert.equal(checkStatusTransition("broken", "broken", "again", ""), "again");
    assert.equal(
      kindOf(() => checkStatusTransition("suspended", "suspending", "", "")),
      "RelationStatusTransitionNotValid",
    );
    assert.equal(checkStatusTransition("suspending", "suspended", "", "maintenance"), "maintenance");
    assert.equal(
      kindOf(() => checkStatusTransition("joined", "error", "", "")),
      "NotValid",
    );
    assert.equal(
      kindOf(() => checkStatusTransition("joined", "bogus", "", "")),
      "NotValid",
    );
  });
});

describe("validation", () => {
  test("unit names, bases and CIDRs", () => {
    assert.equal(validateUnitName("wp/0"), "wp");
    for (const bad of ["", "wp", "wp/01", "Wp/0", "wp/-1"])
      assert.equal(
        kindOf(() => validateUnitName(bad)),
        "InvalidUnitName",
      );
    assert.ok(basesCompatible(parseBase("ubuntu@22.04"), parseBase("ubuntu@22.04/candidate")));
    assert.ok(!basesCompatible(parseBase("ubuntu@22.04"), parseBase("ubuntu@24.04")));
    assert.ok(!basesCompatible(parseBase("ubuntu@22.04"), undefined));
    validateCIDR("10.0.0.0/8");
    validateCIDR("2001:db8::/32");
    for (const bad of ["", "not-a-cidr", "10.0.0.0", "10.0.0.256/8", "10.0.0.0/33"])
      assert.equal(
        kindOf(() => validateCIDR(bad)),
        "NotValid",
        bad,
      );
  });
});

test("joined kinds are all reported", () => {
  const e = new RelationError("ApplicationNotFound", "both", { also: ["RelationNotFound"] });
  assert.deepEqual(e.wrap("ctx").kinds, ["ApplicationNotFound", "RelationNotFound"]);
});
