import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createTestDatabase } from "./index";

const db = await createTestDatabase();
after(() => db.drop());

test("a test database is fresh and usable", async () => {
  const [row] = await db.sql`select current_database() as name, count(*)::int as tables
    from information_schema.tables where table_schema = 'public'`;
  assert.match(row!.name, /^concord_test_/);
  assert.equal(row!.tables, 0);
});
