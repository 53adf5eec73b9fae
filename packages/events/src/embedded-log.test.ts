import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ManualClock } from "@concord/clock";
import { openEmbeddedLog } from "./embedded-log";
import { isEventLogError } from "./errors";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "concord-events-"));
  dirs.push(dir);
  return dir;
}

const enc = (s: string) => new TextEncoder().encode(s);

async function seed(dir: string, n: number): Promise<void> {
  const log = await openEmbeddedLog({ dir });
  for (let i = 1; i <= n; i++) await log.append(`concord.events.m.unit.u${i}`, enc(String(i)));
  await log.close();
}

test("a torn last record (crash during a write) is truncated on open", async () => {
  const dir = await tempDir();
  await seed(dir, 3);
  const path = join(dir, "events.log");
  const intact = (await stat(path)).size;
  // A frame announcing 100 bytes of which only 3 reached the disk.
  await appendFile(path, Buffer.from([100, 0, 0, 0, 1, 2, 3, 4, 2, 0, 0]));
  const log = await openEmbeddedLog({ dir });
  assert.equal((await stat(path)).size, intact);
  assert.deepEqual(
    (await log.read(1, 10)).map((m) => m.seq),
    [1, 2, 3],
  );
  assert.equal((await log.append("concord.events.m.unit.u4", enc("4"))).seq, 4);
  await log.close();
  const again = await openEmbeddedLog({ dir });
  assert.equal((await again.info()).lastSeq, 4);
  await again.close();
});

test("a last record with a bad checksum is dropped", async () => {
  const dir = await tempDir();
  await seed(dir, 2);
  const path = join(dir, "events.log");
  const bytes = await readFile(path);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
  await writeFile(path, bytes);
  const log = await openEmbeddedLog({ dir });
  assert.deepEqual(
    (await log.read(1, 10)).map((m) => m.seq),
    [1],
  );
  assert.equal((await log.append("concord.events.m.unit.x", enc("x"))).seq, 2);
  await log.close();
});

test("a msgId is forgotten once the duplicate window has passed", async () => {
  const clock = new ManualClock();
  const dir = await tempDir();
  const log = await openEmbeddedLog({ dir, clock, duplicateWindowMs: 60_000 });
  assert.deepEqual(await log.append("concord.events.m.unit.a", enc("a"), { msgId: "c:0" }), {
    seq: 1,
    duplicate: false,
  });
  clock.advance(59_000);
  assert.deepEqual(await log.append("concord.events.m.unit.a", enc("a"), { msgId: "c:0" }), {
    seq: 1,
    duplicate: true,
  });
  await log.close();
  // The window is rebuilt from the file on open.
  const reopened = await openEmbeddedLog({ dir, clock, duplicateWindowMs: 60_000 });
  assert.equal(
    (await reopened.append("concord.events.m.unit.a", enc("a"), { msgId: "c:0" })).duplicate,
    true,
  );
  clock.advance(2_000);
  assert.deepEqual(await reopened.append("concord.events.m.unit.a", enc("a"), { msgId: "c:0" }), {
    seq: 2,
    duplicate: false,
  });
  assert.deepEqual(
    (await reopened.read(1, 10)).map((m) => m.time.getTime()),
    [clock.now() - 61_000, clock.now()],
  );
  await reopened.close();
});

test("a folder is held by one open log at a time", async () => {
  const dir = await tempDir();
  const log = await openEmbeddedLog({ dir });
  await assert.rejects(openEmbeddedLog({ dir }), (err) => isEventLogError(err, "NotValid"));
  await log.close();
  await (await openEmbeddedLog({ dir })).close();
});

test("a closed log refuses calls and ends its subscriptions", async () => {
  const log = await openEmbeddedLog({ dir: await tempDir() });
  const it = log.subscribe(1)[Symbol.asyncIterator]();
  const pending = it.next();
  await log.close();
  assert.equal((await pending).done, true);
  await assert.rejects(log.append("concord.events.m.unit.a", enc("a")), (err) =>
    isEventLogError(err, "EventLogClosed"),
  );
});
