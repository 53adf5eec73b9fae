// `concord`: the command-line client of a Concord controller.
import { run } from "./cli";

const interrupted = new AbortController();
// The first Ctrl-C ends a running command cleanly (status --watch); a second one exits at once.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    if (interrupted.signal.aborted) process.exit(130);
    interrupted.abort();
  });
}
const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: interrupted.signal,
});
process.exitCode = code;
// Open channels of the gRPC kit may keep the event loop alive a moment; the command is done.
await new Promise<void>((done) => process.stdout.write("", () => done()));
process.exit(code);
