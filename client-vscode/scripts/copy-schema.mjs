// Copies the prompt-file JSON Schema of the Python package into schemas/, where the `yamlValidation`
// contribution points. Sources, first found wins: `$PROMPTLS_SCHEMA_FROM_CLI schema`,
// server/promptls/prompt.schema.json, `<repo>/.venv/bin/promptls schema`, `promptls schema` on PATH.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const packaged = join(repo, "server", "promptls", "prompt.schema.json");
const target = join(here, "..", "schemas", "prompt.schema.json");

function fromCli(command) {
  try {
    return execFileSync(command, ["schema"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return undefined;
  }
}

const text =
  (process.env.PROMPTLS_SCHEMA_FROM_CLI && fromCli(process.env.PROMPTLS_SCHEMA_FROM_CLI)) ||
  (existsSync(packaged) ? readFileSync(packaged, "utf8") : undefined) ||
  fromCli(join(repo, ".venv", "bin", "promptls")) ||
  fromCli("promptls");
if (text === undefined) {
  console.error(`schema: no source found (${packaged}, or \`promptls schema\`); set PROMPTLS_SCHEMA_FROM_CLI`);
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
