import assert from "node:assert/strict";
import { test } from "node:test";

import { explicitSettings, type InspectedValue } from "../src/settings";

const inspectFrom = (values: Record<string, InspectedValue>) => (key: string) => values[key];

test("defaults are not sent, so promptls.toml keeps its values", () => {
  assert.deepEqual(explicitSettings(inspectFrom({})), {});
  assert.deepEqual(explicitSettings(inspectFrom({ model: { globalValue: "" }, budget: { globalValue: null } })), {});
});

test("the most specific explicit scope wins", () => {
  const sent = explicitSettings(
    inspectFrom({
      mode: { globalValue: "api", workspaceValue: "offline" },
      budget: { globalValue: 1000, workspaceValue: 2000, workspaceFolderValue: 3000 },
      budgets: { globalValue: { "agents/**": 20000 } },
      hints: { workspaceFolderValue: "totals" },
    }),
  );
  assert.deepEqual(sent, { mode: "offline", budget: 3000, budgets: { "agents/**": 20000 }, hints: "totals" });
});

test("client-only settings never reach the server", () => {
  const sent = explicitSettings(
    inspectFrom({ "server.path": { globalValue: "/x/promptls" }, "trace.server": { globalValue: "verbose" } }),
  );
  assert.deepEqual(sent, {});
});
