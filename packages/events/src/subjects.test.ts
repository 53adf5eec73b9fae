import assert from "node:assert/strict";
import { test } from "node:test";
import { isEventLogError } from "./errors";
import {
  escapeToken,
  parseSubject,
  subjectFilter,
  subjectFor,
  subjectMatches,
  unescapeToken,
} from "./subjects";

test("ids escape into single NATS-safe tokens and back", () => {
  const ids = [
    "mysql/0",
    "wordpress:db mysql:server",
    "a.b*c>d",
    "",
    "%",
    "~x",
    "ünï ✓",
    "tab\tnew\nline",
    "plain-id_1",
  ];
  for (const id of ids) {
    const token = escapeToken(id);
    assert.match(token, /^[A-Za-z0-9_%-]+$/, id);
    assert.equal(unescapeToken(token), id);
  }
  assert.equal(escapeToken("mysql/0"), "mysql%2F0");
  assert.equal(escapeToken("plain-id_1"), "plain-id_1");
});

test("subjectFor names one subject per entity and parseSubject reverses it", () => {
  const ref = {
    modelUuid: "6f1a7c2e-0000-4000-8000-000000000001",
    kind: "relation",
    id: "wordpress:db mysql:server",
  };
  const subject = subjectFor(ref);
  assert.equal(
    subject,
    "concord.events.6f1a7c2e-0000-4000-8000-000000000001.relation.wordpress%3Adb%20mysql%3Aserver",
  );
  assert.deepEqual(parseSubject(subject), ref);
  assert.throws(
    () => parseSubject("concord.events.x.y"),
    (err) => isEventLogError(err, "NotValid"),
  );
  assert.throws(
    () => parseSubject("concord.events.x.y.a%2"),
    (err) => isEventLogError(err, "NotValid"),
  );
});

test("subject filters follow NATS wildcard rules", () => {
  assert.equal(subjectMatches("concord.events.>", "concord.events.m.unit.a"), true);
  assert.equal(subjectMatches("concord.events.>", "concord.events"), false);
  assert.equal(subjectMatches("concord.events.*.unit.*", "concord.events.m.unit.a"), true);
  assert.equal(subjectMatches("concord.events.*.unit.*", "concord.events.m.relation.a"), false);
  assert.equal(subjectMatches("concord.events.*.unit", "concord.events.m.unit.a"), false);
  assert.equal(
    subjectMatches(
      subjectFilter({ modelUuid: "m", kind: "unit" }),
      subjectFor({ modelUuid: "m", kind: "unit", id: "a/0" }),
    ),
    true,
  );
  assert.equal(
    subjectMatches(subjectFilter({ kind: "unit" }), subjectFor({ modelUuid: "n", kind: "unit", id: "a/0" })),
    true,
  );
  assert.equal(
    subjectMatches(
      subjectFilter({ modelUuid: "m" }),
      subjectFor({ modelUuid: "n", kind: "unit", id: "a/0" }),
    ),
    false,
  );
});
