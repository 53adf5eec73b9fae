// `npm run conformance -- <suite> <cases.json>`: runs one case file, one line per case, then the totals.
import { readFile } from "node:fs/promises";
import { runSuiteFile, suiteNames } from "./registry";

const [suite, file] = process.argv.slice(2);
if (!suite || !file) {
  console.error(`usage: npm run conformance -- <suite> <cases.json>\nsuites: ${suiteNames().join(", ")}`);
  process.exit(2);
}
const doc = JSON.parse(await readFile(file, "utf8"));
const { failed } = await runSuiteFile(suite, doc);
process.exit(failed > 0 ? 1 : 0);
