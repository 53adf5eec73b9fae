// The `concord` command's public face: run it in process (tests, other tools) and its building blocks.
export { run, VERSION } from "./cli";
export { COMMANDS } from "./commands";
export { CliError, type Described, describeError, ExitCode } from "./errors";
export { type CharmEndpointInit, type CharmRelationMetadata, parseMetadata } from "./metadata";
export { DEFAULT_CONTROLLER, type ModelRef, Session } from "./session";
export { ModelCache } from "./status/model-cache";
export { formatStatus, type StatusView, statusDocument, statusTable, statusView } from "./status/status-view";
export { type FollowOptions, followModel, snapshot } from "./status/watch";
export type { Command, CommandContext, Format, GlobalFlags, Io, Output } from "./types";
