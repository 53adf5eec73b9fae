// `npm test` in this package: every suite against its case file in ../cases (file = suite name).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runSuiteFile, suiteNames } from "./registry";

let failed = 0;
let passed = 0;
for (const name of suiteNames()) {
  const file = fileURLToPath(new URL(`../cases/${name}.json`, import.meta.url));
  if (!existsSync(file)) throw new Error(`suite ${name} has no case file ${file}`);
  console.log(`# suite ${name}`);
  const r = await runSuiteFile(name, JSON.parse(await readFile(file, "utf8")));
  passed += r.passed;
  failed += r.failed;
}
console.log(`conformance: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
