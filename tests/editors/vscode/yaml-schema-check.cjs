// Checks the extension's `yamlValidation` contribution with Red Hat's yaml-language-server (the engine
// of the Red Hat YAML extension): for *.prompt.yaml files our schema must win over SchemaStore's GitHub
// Models prompt schema, and prompt files with content blocks must validate without false errors.
//
// The YAML extension sends yamlValidation entries as `json/schemaAssociations` with fileMatch prefixed
// by "/" (vscode-yaml src/extension.ts getSchemaAssociations); yaml-language-server gives those
// SchemaPriority.SchemaAssociation (2) and SchemaStore entries SchemaPriority.SchemaStore (1), and only
// the highest-priority matching schemas are used (yamlSchemaService highestPrioritySchemas). Below,
// the language service is configured exactly that way. SchemaStore itself is unreachable here, so a
// stand-in with its relevant rule (message content is a string) plays its part.
//
//   node yaml-schema-check.cjs <node_modules> <package.json of the extension> <prompt files...>
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { pathToFileURL, fileURLToPath } = require("node:url");

const [modules, extensionManifest, ...files] = process.argv.slice(2);
if (!modules || !extensionManifest) {
  console.error("usage: node yaml-schema-check.cjs <node_modules> <extension package.json> <prompt files...>");
  process.exit(2);
}
const load = (name) => require(require.resolve(name, { paths: [modules] }));
const { getLanguageService } = load("yaml-language-server");
const { TextDocument } = load("vscode-languageserver-textdocument");

const SCHEMA_STORE = 1;
const SCHEMA_ASSOCIATION = 2;
const STANDIN_URI = "https://json.schemastore.org/stand-in-github-models-prompt.json";
const STANDIN = {
  type: "object",
  properties: {
    messages: {
      type: "array",
      items: {
        type: "object",
        properties: { role: { type: "string" }, content: { type: "string" } },
        required: ["role", "content"],
      },
    },
  },
};

/** Our yamlValidation entries, transformed the way vscode-yaml does before sending them. */
function extensionAssociations() {
  const manifest = JSON.parse(fs.readFileSync(extensionManifest, "utf8"));
  const root = path.dirname(path.resolve(extensionManifest));
  return (manifest.contributes?.yamlValidation ?? []).map((entry) => ({
    uri: pathToFileURL(path.join(root, entry.url)).toString(),
    fileMatch: [].concat(entry.fileMatch).map((fm) => (/^(\w+:\/\/|\/|!)/.test(fm) ? fm : `/${fm}`)),
    priority: SCHEMA_ASSOCIATION,
  }));
}

const internalErrors = [];

function service(withExtension) {
  const ls = getLanguageService({
    schemaRequestService: async (uri) => fs.readFileSync(fileURLToPath(uri), "utf8"),
    workspaceContext: { resolveRelativePath: (rel, resource) => new URL(rel, resource).toString() },
    // doValidation swallows its own exceptions and reports them here: count them as failures.
    telemetry: { send() {}, sendTrack() {}, sendError: (name, err) => internalErrors.push(`${name}: ${err?.stack ?? err}`) },
  });
  const schemas = [
    { uri: STANDIN_URI, fileMatch: ["*.prompt.yml", "*.prompt.yaml"], priority: SCHEMA_STORE, schema: STANDIN },
    ...(withExtension ? extensionAssociations() : []),
  ];
  ls.configure({ validate: true, completion: true, hover: true, schemas });
  return ls;
}

async function validate(ls, uri, text) {
  const doc = TextDocument.create(uri, "yaml", 1, text);
  return ls.doValidation(doc, false);
}

const CONTENT_BLOCKS = [
  "model: claude-sonnet-4-6",
  "messages:",
  "  - role: user",
  "    content:",
  "      - text: Compare with last quarter.",
  "      - document: filings/q3.pdf",
  "",
].join("\n");

async function main() {
  const failures = [];
  const ours = service(true);
  const storeOnly = service(false);
  // yaml-language-server caches parsed documents by URI and version: one URI per text.
  const fake = (name) => `file:///check/${name}.prompt.yaml`;

  const control = await validate(storeOnly, fake("control"), CONTENT_BLOCKS);
  if (control.length === 0) {
    failures.push("control: the SchemaStore stand-in alone accepted content blocks, so this check proves nothing");
  }
  const blocks = await validate(ours, fake("blocks"), CONTENT_BLOCKS);
  if (blocks.length > 0) {
    failures.push(`content blocks: false errors with our schema: ${blocks.map((d) => d.message).join("; ")}`);
  }
  const broken = await validate(ours, fake("broken"), "messages: 5\n");
  if (broken.length === 0) {
    failures.push("no schema flagged `messages: 5`: schema validation is not running");
  }
  let checked = 0;
  for (const file of files) {
    const diagnostics = await validate(ours, pathToFileURL(path.resolve(file)).toString(), fs.readFileSync(file, "utf8"));
    checked += 1;
    for (const d of diagnostics) {
      failures.push(`${path.basename(file)}:${d.range.start.line + 1}: ${d.message}`);
    }
  }
  failures.push(...internalErrors);
  console.log(
    `yaml-language-server: our schema wins over SchemaStore for *.prompt.yaml (control errors: ${control.length}); ` +
      `content blocks ok; ${checked} example file(s) checked`,
  );
  if (failures.length > 0) {
    console.error(`FAIL (yaml schema):\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`FAIL (yaml schema): ${err.stack || err}`);
  process.exit(1);
});
