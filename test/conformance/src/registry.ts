import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CaseResult, Suite } from "./types";

const suitesDir = fileURLToPath(new URL("./suites/", import.meta.url));

/** The names of every suite: one module per suite in `suites/`, named after it, exporting `suite`. */
export function suiteNames(): string[] {
  return readdirSync(suitesDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Runs one parsed case file with the named suite, printing one line per case and the totals last. */
export async function runSuiteFile(name: string, doc: unknown): Promise<{ passed: number; failed: number }> {
  if (!suiteNames().includes(name)) {
    throw new Error(`unknown suite ${JSON.stringify(name)}; known: ${suiteNames().join(", ")}`);
  }
  const { suite } = (await import(`./suites/${name}.ts`)) as { suite: Suite };
  let passed = 0;
  let failed = 0;
  const report = (r: CaseResult) => {
    if (r.failure === undefined) {
      passed++;
      console.log(`ok ${r.id} ${r.name}`);
    } else {
      failed++;
      console.log(`FAIL ${r.id} ${r.name}: ${r.failure}`);
    }
  };
  try {
    await suite(doc, report);
  } catch (err) {
    failed++;
    console.log(`FAIL - suite ${name}: ${(err as Error).stack ?? err}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return { passed, failed };
}
