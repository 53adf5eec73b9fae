import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ChannelNotifier, createTestDatabase } from "./index";

const db = await createTestDatabase();
after(() => db.drop());

test("changes() steps at once, again after a committed notification, and ends on abort", async () => {
  const notifier = new ChannelNotifier(db.sql);
  const ac = new AbortController();
  const steps = notifier.changes("concord_test_channel", ac.signal, (payload) => payload !== "ignored");
  assert.equal((await steps.next()).done, false, "the first step comes at once");

  const pending = steps.next();
  await db.sql.begin(async (tx) => {
    await tx`select pg_notify('concord_test_channel', 'wordpress/0')`;
  });
  assert.equal((await pending).done, false, "a committed notification gives the next step");

  const ending = steps.next();
  ac.abort();
  assert.equal((await ending).done, true, "aborting ends the loop");
});
