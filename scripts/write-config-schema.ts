// Writes clawfleet.schema.json (the JSON Schema of clawfleet.yaml) from the zod config schema.
// Run after changing src/config/schema.ts: `npm run schema`. A unit test fails while the two differ.
import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../src/config/schema.js";

const target = new URL("../clawfleet.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
