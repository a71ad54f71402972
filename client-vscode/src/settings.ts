/**
 * What the server gets for `workspace/configuration` of the `promptls` section: only the settings the
 * user set explicitly. VS Code would otherwise answer with every default too (mode "auto", budgets {},
 * model ""), and those would silently override the project's promptls.toml.
 */

export const SECTION = "promptls";

/** The keys of the editor contract (docs/ARCHITECTURE.md); `server.*` and `trace.*` stay client-side. */
export const SERVER_SETTING_KEYS = [
  "mode",
  "model",
  "debounceMs",
  "requestsPerMinute",
  "budget",
  "budgets",
  "workspaceBudget",
  "hints",
  "compareModels",
] as const;

/** The parts of `WorkspaceConfiguration.inspect()` that hold values someone set on purpose. */
export interface InspectedValue {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/** The explicitly set values, most specific scope first (folder, then workspace, then user). */
export function explicitSettings(inspect: (key: string) => InspectedValue | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const found = inspect(key);
    const value = [found?.workspaceFolderValue, found?.workspaceValue, found?.globalValue].find(isSet);
    if (value !== undefined) {
      out[key] = value;
    }
  }
  return out;
}
