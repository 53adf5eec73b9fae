import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import * as runtime from "@concord/runtime";
import { ADMIN_TOKEN_FILE, dataDir, SECRET_FILE } from "./data-folder";

test("the data folder's names are the runtime's", () => {
  assert.equal(ADMIN_TOKEN_FILE, runtime.ADMIN_TOKEN_FILE);
  assert.equal(SECRET_FILE, runtime.SECRET_FILE);
});

test("the data folder is CONCORD_DATA, else ./.concord, as the runtime resolves it", () => {
  assert.equal(dataDir({}, "/srv/x"), join("/srv/x", ".concord"));
  assert.equal(dataDir({ CONCORD_DATA: "/var/concord" }, "/srv/x"), "/var/concord");
  assert.equal(dataDir({ CONCORD_DATA: "rel" }, "/srv/x"), "/srv/x/rel");
});
