// A relay in its own process, for the crash test (relay-crash.test.ts): it prints one line per acknowledged
// append so that the test can SIGKILL it in the middle of a batch.
import { connect } from "@concord/db";
import { openNatsLog } from "./nats-log";
import { startRelay } from "./relay";
import type { EventLog } from "./types";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const sql = connect(env("DATABASE_URL"), { max: 4 });
const stream = env("STREAM");
const log = await openNatsLog({ url: env("NATS_URL"), stream, namespace: stream, timeoutMs: 1000 });
let appended = 0;
const reporting: EventLog = {
  append: async (subject, data, opts) => {
    const result = await log.append(subject, data, opts);
    appended++;
    process.stdout.write(`appended ${appended} ${opts?.msgId} ${result.duplicate}\n`);
    return result;
  },
  read: (fromSeq, limit) => log.read(fromSeq, limit),
  subscribe: (fromSeq, opts) => log.subscribe(fromSeq, opts),
  lastPerSubject: (filter) => log.lastPerSubject(filter),
  info: () => log.info(),
  close: () => log.close(),
};
const logger = {
  info: (obj: object, msg?: string) => process.stderr.write(`info ${msg} ${JSON.stringify(obj)}\n`),
  warn: (obj: object, msg?: string) => process.stderr.write(`warn ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj: object, msg?: string) => process.stderr.write(`error ${msg} ${JSON.stringify(obj)}\n`),
};
startRelay({
  sql,
  schema: env("SCHEMA"),
  log: reporting,
  logger,
  batchSize: Number(env("BATCH_SIZE")),
  pollMs: 50,
});
