import assert from "node:assert/strict";
import { test } from "node:test";

import { configuresPromptls, DOCUMENT_SELECTOR, hasPromptName, showsStatus, START_GLOB } from "../src/selector";

test("every YAML file on disk is sent to the server, not only *.prompt.yaml (include globs may name any .yml)", () => {
  assert.deepEqual(DOCUMENT_SELECTOR, [{ scheme: "file", language: "yaml" }]);
  assert.ok(DOCUMENT_SELECTOR.every((filter) => !("pattern" in filter)));
});

test("the server starts for prompt-named files and for a promptls.toml that may configure include", () => {
  assert.match(START_GLOB, /\*\*\/\*\.prompt\.\{yaml,yml\}/);
  assert.match(START_GLOB, /\*\*\/promptls\.toml/);
  assert.ok(configuresPromptls('[project]\nname = "x"\n\n[tool.promptls]\ninclude = ["examples/*.yml"]\n'));
  assert.ok(configuresPromptls("[tool.promptls.models]\n"));
  assert.ok(!configuresPromptls('[tool.ruff]\nline-length = 100\n# [tool.promptls] is not set here\n'));
  assert.ok(!configuresPromptls("[tool.promptlsx]\n"));
});

test("GitHub Models names are prompt files whatever the server says; other YAML only with a status", () => {
  assert.ok(hasPromptName("/w/a.prompt.yaml") && hasPromptName("/w/b.prompt.yml"));
  assert.ok(!hasPromptName("/w/examples/summarise.yml") && !hasPromptName("/w/prompt.yaml"));
  assert.equal(showsStatus("/w/a.prompt.yaml", false), true); // still counting: the item says so
  assert.equal(showsStatus("/w/examples/summarise.yml", true), true); // matched by include
  assert.equal(showsStatus("/w/.github/workflows/ci.yml", false), false); // not ours: no item
});
