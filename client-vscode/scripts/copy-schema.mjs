// Copies the prompt-file JSON Schema shipped by the Python package into schemas/, where the
// `yamlValidation` contribution points. Source: server/promptls/prompt.schema.json, or the output of
// `promptls schema` when PROMPTLS_SCHEMA_FROM_CLI is set (e.g. for an installed promptls).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "..", "server", "promptls", "prompt.schema.json");
const target = join(here, "..", "schemas", "prompt.schema.json");

let text;
if (process.env.PROMPTLS_SCHEMA_FROM_CLI) {
  text = execFileSync(process.env.PROMPTLS_SCHEMA_FROM_CLI, ["schema"], { encoding: "utf8" });
} else if (existsSync(source)) {
  text = readFileSync(source, "utf8");
} else {
  console.error(`schema: ${source} not found; set PROMPTLS_SCHEMA_FROM_CLI=/path/to/promptls to use \`promptls schema\``);
  process.exit(1);
}
const schema = JSON.parse(text);
if (typeof schema !== "object" || schema === null || !("properties" in schema)) {
  console.error("schema: the source is not a JSON Schema object with properties");
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, JSON.stringify(schema, null, 2) + "\n");
console.log(`schema: wrote ${target}`);
