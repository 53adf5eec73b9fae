#!/usr/bin/env node
// Runs the TypeScript entry point through tsx (Concord runs from source).
import { register } from "tsx/esm/api";

register();
await import("../src/stack-main.ts");
