import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FILE = fileURLToPath(new URL("../RESULTS.md", import.meta.url));

/** Replaces (or appends) the section `## <title>` of bench/RESULTS.md, keeping every other section. */
export function writeSection(title: string, body: string): void {
  const text = existsSync(FILE)
    ? readFileSync(FILE, "utf8")
    : "# Benchmark results\n\nWritten by the scripts in bench/; each section says how it was run.\n";
  const heading = `## ${title}`;
  const start = text.indexOf(`\n${heading}\n`);
  const section = `\n${heading}\n\n${body.trim()}\n`;
  let next: string;
  if (start < 0) next = `${text.trimEnd()}\n${section}`;
  else {
    const end = text.indexOf("\n## ", start + heading.length + 1);
    next = text.slice(0, start) + section + (end < 0 ? "" : text.slice(end));
  }
  writeFileSync(FILE, next);
}

/** A Markdown table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The machine a benchmark ran on, for the record. */
export function machine(): string {
  const cpus = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown CPU";
  const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor\s*:/gm)?.length ?? 0;
  return `${cores} × ${cpus}, Node ${process.version}`;
}
