// `npm run -w @concord/deploy validate [overlay...]`: renders deploy/'s kustomizations and validates them offline.
import { formatFinding, OVERLAYS, validateOverlay } from "./index";

const wanted = process.argv.slice(2);
const overlays = OVERLAYS.filter((o) => wanted.length === 0 || wanted.includes(o.name));
if (overlays.length === 0) {
  console.error(`unknown overlay; known: ${OVERLAYS.map((o) => o.name).join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const overlay of overlays) {
  const { objects, findings } = await validateOverlay(overlay);
  console.log(
    `${findings.length === 0 ? "ok  " : "FAIL"} ${overlay.name} (${overlay.dir}): ${objects.length} objects`,
  );
  for (const f of findings) console.log(`     ${formatFinding(f)}`);
  if (findings.length > 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
