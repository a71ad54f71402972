import assert from "node:assert/strict";
import { test } from "node:test";

import type { FileStatus } from "../src/protocol";
import { breakdownRows, overheadTokens, partDepth, statusLevel, statusText, statusTooltip } from "../src/status";

function status(over: Partial<FileStatus>): FileStatus {
  return {
    uri: "file:///w/a.prompt.yaml",
    model: "claude-sonnet-4-6",
    total: 12345,
    exact: true,
    contextWindow: 200000,
    windowShare: 0.0617,
    costUsd: 0.037,
    state: "exact",
    parts: [],
    ...over,
  };
}

test("an exact count reads like the design: tokens, window share, exact", () => {
  assert.equal(statusText(status({})), "$(symbol-numeric) 12,345 tok · 6% · exact");
});

test("estimates and degraded states carry ≈ and say why", () => {
  assert.equal(statusText(status({ exact: false, state: "estimate" })), "$(symbol-numeric) ≈ 12,345 tok · 6% · estimate");
  assert.equal(statusText(status({ exact: false, state: "no-key" })), "$(symbol-numeric) ≈ 12,345 tok · 6% · no key");
  assert.equal(statusText(status({ exact: false, state: "offline" })), "$(symbol-numeric) ≈ 12,345 tok · 6% · offline");
  assert.equal(statusText(status({ exact: false, state: "rate-limited" })), "$(symbol-numeric) ≈ 12,345 tok · 6% · rate-limited");
  assert.equal(statusText(status({ exact: false, state: "counting" })), "$(sync~spin) ≈ 12,345 tok · 6% · counting");
});

test("a tiny share is <1%, no window means no share, no count yet is a dash", () => {
  assert.equal(statusText(status({ total: 40 })), "$(symbol-numeric) 40 tok · <1% · exact");
  assert.equal(statusText(status({ contextWindow: null })), "$(symbol-numeric) 12,345 tok · exact");
  assert.equal(statusText(status({ total: 250000 })), "$(symbol-numeric) 250,000 tok · 125% · exact");
  assert.equal(statusText(null), "$(symbol-numeric) — tok");
});

test("the tooltip names model, window, cost and how to get exact counts", () => {
  const t = statusTooltip(status({ exact: false, state: "no-key" }));
  assert.match(t, /claude-sonnet-4-6/);
  assert.match(t, /≈ 12,345 input tokens of 200,000 \(6%\)/);
  assert.match(t, /\$0\.037/);
  assert.match(t, /Set Anthropic API Key/);
});

test("breakdown rows are indented by nesting and say exact or estimate", () => {
  assert.equal(partDepth("system"), 0);
  assert.equal(partDepth("messages[1]"), 0);
  assert.equal(partDepth("messages[1].content[0]"), 1);
  assert.equal(partDepth("tools"), 0);
  assert.equal(partDepth("tools[3]"), 1);
  const rows = breakdownRows(
    status({
      total: 2800,
      exact: false,
      parts: [
        { id: "system", label: "system", tokens: 1204, exact: true, line: 1 },
        { id: "messages[0]", label: "user #1", tokens: 1590, exact: false, line: 4 },
        { id: "messages[0].content[1]", label: "document filings/q3.pdf", tokens: 1521, exact: false, line: 9 },
      ],
    }),
  );
  assert.deepEqual(rows, [
    { label: "system", description: "1,204 tok · exact", line: 1 },
    { label: "user #1", description: "≈ 1,590 tok · estimate", line: 4 },
    { label: "\u2003document filings/q3.pdf", description: "≈ 1,521 tok · estimate", line: 9 },
    { label: "request overhead", description: "≈ 6 tok · framing the API adds", line: 0 },
  ]);
});

test("parts plus overhead add up to the total; no overhead row when there is none", () => {
  const parts = [{ id: "system", label: "system", tokens: 100, exact: true, line: 1 }];
  assert.equal(overheadTokens(status({ total: 107, parts })), 7);
  assert.equal(breakdownRows(status({ total: 100, parts })).length, 1);
  assert.equal(overheadTokens(status({ total: null, parts })), undefined);
});

test("a budget replaces the window share: `346 / 300 budget`, with a warning when exceeded", () => {
  const over = status({ total: 346, exact: false, state: "no-key", budget: 300, overBudget: true });
  assert.equal(statusText(over), "$(warning) ≈ 346 / 300 budget · no key");
  assert.equal(statusLevel(over, false), "warning");
  assert.match(statusTooltip(over), /budget 300 — \*\*over by 46\*\*/);
  const under = status({ total: 120, budget: 300, overBudget: false });
  assert.equal(statusText(under), "$(symbol-numeric) 120 / 300 budget · exact");
  assert.equal(statusLevel(under, false), "none");
  assert.equal(statusLevel(null, true), "error");
  assert.equal(statusLevel(status({ state: "error" }), false), "warning");
});
