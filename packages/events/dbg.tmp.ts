import { jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import { openNatsLog } from "./src/nats-log";
import { dropTestStreams, testStreamName } from "./src/testing";

const enc = (s: string) => new TextEncoder().encode(s);
const url = "nats://127.0.0.1:4222";
for (let i = 0; i < 8; i++) {
  const stream = testStreamName();
  const log = await openNatsLog({ url, stream, namespace: stream });
  for (const s of ["a", "b", "c"]) await log.append(`concord.events.m.unit.${s}`, enc(s));
  const nc = await connectNats({ servers: url });
  if (i % 2 === 0) await (await jetstreamManager(nc)).streams.purge(stream);
  await nc.close();
  const from = i % 2 === 0 ? 4 : 4;
  const it = log.subscribe(from)[Symbol.asyncIterator]();
  const next = it.next();
  if (i >= 4) await new Promise((r) => setTimeout(r, 200));
  await log.append("concord.events.m.unit.d", enc("d"));
  const r = await Promise.race([next, new Promise((r) => setTimeout(() => r("TIMEOUT"), 3000))]);
  console.log(
    i,
    i % 2 === 0 ? "purged" : "not purged",
    i >= 4 ? "delayed" : "",
    typeof r === "string" ? r : (r as any).value?.seq,
  );
  await log.close();
}
await dropTestStreams();
