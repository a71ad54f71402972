/**
 * Which documents the server is sent, and when the client starts it (no `vscode` import: unit-tested).
 *
 * Whether a YAML file is a prompt file is the server's call: the root's `include` globs (promptls.toml
 * or `[tool.promptls]`; default the GitHub Models patterns) may name `examples/*.yml`. So every YAML
 * file on disk is sent, and the server publishes nothing (no diagnostics, hints or lenses) for the
 * ones its globs do not match.
 */

/** The GitHub Models file names: prompt files whatever the configuration says. */
export const PROMPT_GLOB = "**/*.prompt.{yaml,yml}";

/** Prompt files keep the `yaml` language id: a new id would detach yaml-language-server and our schema. */
export const DOCUMENT_SELECTOR = [{ scheme: "file", language: "yaml" }];

/** A workspace holding one of these may have prompt files: start the server (its index finds them). */
export const START_GLOB = "{**/*.prompt.{yaml,yml},**/promptls.toml}";

const PROMPT_NAME = /\.prompt\.ya?ml$/;

/** A file named as GitHub Models names prompt files. */
export function hasPromptName(fsPath: string): boolean {
  return PROMPT_NAME.test(fsPath);
}

/** A pyproject.toml that configures promptls (and so may widen `include`). */
export function configuresPromptls(pyproject: string): boolean {
  return /^\s*\[tool\.promptls[\].]/m.test(pyproject);
}

/**
 * Whether the status bar shows an item for the active YAML file, given the server's `fileStatus`
 * answer: a file with a prompt name always does (it may be counting still); any other YAML file only
 * once the server has a status for it (its `include` matched).
 */
export function showsStatus(fsPath: string, hasStatus: boolean): boolean {
  return hasStatus || hasPromptName(fsPath);
}
