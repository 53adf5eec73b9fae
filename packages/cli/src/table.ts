/** Lays rows out in columns two spaces apart, Juju's tabular style; the first row is the heading. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Compares unit names by application, then number (`app/2` before `app/10`). */
export function compareUnits(a: string, b: string): number {
  const [appA = "", numA = ""] = a.split("/");
  const [appB = "", numB = ""] = b.split("/");
  return appA === appB ? Number(numA) - Number(numB) : appA < appB ? -1 : 1;
}
