// A hook tool (relation-get, relation-set, ...): asks the unit agent over its socket to run the command in
// the hook's context and prints the answer. Plain JavaScript so that it starts fast. Usage (from the
// wrappers the agent installs): node hook-tool.mjs <command> [args...]
import { connect } from "node:net";

const [command, ...args] = process.argv.slice(2);
const address = process.env.JUJU_AGENT_SOCKET_ADDRESS ?? process.env.JUJU_AGENT_SOCKET;
const contextId = process.env.JUJU_CONTEXT_ID;
if (!command || !address || !contextId) {
  process.stderr.write(
    `ERROR ${command ?? "hook tool"}: must be run from a hook (JUJU_CONTEXT_ID and JUJU_AGENT_SOCKET_ADDRESS)\n`,
  );
  process.exit(2);
}
const socket = connect(address);
let reply = "";
socket.on("data", (chunk) => {
  reply += chunk.toString("utf8");
});
socket.on("error", (err) => {
  process.stderr.write(`ERROR cannot reach the unit agent: ${err.message}\n`);
  process.exit(1);
});
socket.on("end", () => {
  let result;
  try {
    result = JSON.parse(reply);
  } catch {
    process.stderr.write("ERROR bad reply from the unit agent\n");
    process.exit(1);
  }
  process.stdout.write(result.stdout ?? "");
  process.stderr.write(result.stderr ?? "");
  process.exitCode = result.code ?? 1;
});
socket.write(`${JSON.stringify({ contextId, command, args })}\n`);
