import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ChangeEventSchema, EntitySchema } from "@concord/proto/events/v1/events";
import { decodeChange, entityKey } from "./entity";
import { parseScope } from "./scope";
import { removeUnit, unit, upsert, uuid0 } from "./testing";

describe("entities", () => {
  it("reads each kind's identity from its own id field", () => {
    const leader = create(EntitySchema, {
      kind: { case: "leader", value: { modelUuid: uuid0, application: "mysql" } },
    });
    assert.deepEqual(entityKey(leader), { kind: "leader", modelUUID: uuid0, id: "mysql" });
    const model = create(EntitySchema, { kind: { case: "model", value: { modelUuid: uuid0, name: "m" } } });
    assert.deepEqual(entityKey(model), { kind: "model", modelUUID: uuid0, id: uuid0 });
    assert.equal(entityKey(create(EntitySchema)), undefined);
  });

  it("decodes upserts and removals and refuses inconsistent events", () => {
    assert.equal((decodeChange(upsert(unit(uuid0, "a/0"))) as { type: string }).type, "upsert");
    assert.deepEqual(decodeChange(removeUnit(uuid0, "a/0")), {
      type: "remove",
      key: { kind: "unit", modelUUID: uuid0, id: "a/0" },
    });
    const wrongKind = upsert(unit(uuid0, "a/0"));
    wrongKind.kind = "application";
    assert.ok("invalid" in decodeChange(wrongKind));
    assert.ok(
      "invalid" in decodeChange(create(ChangeEventSchema, { modelUuid: uuid0, kind: "unit", id: "a/0" })),
    );
    assert.ok("invalid" in decodeChange(create(ChangeEventSchema, { kind: "unit", id: "a/0" })));
  });
});

describe("scopes", () => {
  it("parses controller and model scopes and rejects anything else as INVALID_ARGUMENT", () => {
    assert.deepEqual(parseScope("controller"), { type: "controller" });
    assert.deepEqual(parseScope(`model:${uuid0}`), { type: "model", modelUUID: uuid0 });
    for (const bad of ["cluster", "model:not-a-uuid", `model:${uuid0}:nonadmin`]) {
      assert.throws(() => parseScope(bad), { code: "INVALID_ARGUMENT" });
    }
  });
});
