/**
 * Turns a `promptls/fileStatus` answer into status-bar text, tooltip and breakdown rows. Kept free of
 * the vscode module so the wording is unit-tested.
 */
import type { CountState, FileStatus } from "./protocol";

const STATE_LABEL: Record<CountState, string> = {
  exact: "exact",
  estimate: "estimate",
  counting: "counting",
  offline: "offline",
  "rate-limited": "rate-limited",
  "no-key": "no key",
  error: "error",
};

const STATE_HELP: Record<CountState, string> = {
  exact: "Exact count from Anthropic's count_tokens API.",
  estimate: "Offline estimate; an exact count is on its way or not possible.",
  counting: "Counting; the number shown is an estimate until the API answers.",
  offline: "Offline mode: estimates only (mode setting, or an untrusted workspace).",
  "rate-limited": "Rate-limited by the API: estimate shown, exact count follows.",
  "no-key": "No API key: estimates only. Run “promptls: Set Anthropic API Key” for exact counts.",
  error: "The API returned an error: estimate shown. See the promptls output.",
};

const numberFormat = new Intl.NumberFormat("en-US");

export function formatTokens(n: number): string {
  return numberFormat.format(Math.round(n));
}

/** Share of the context window as a whole percent; "<1%" for a small non-zero share. */
export function windowPercent(status: Pick<FileStatus, "total" | "contextWindow">): string | undefined {
  if (status.total === null || !status.contextWindow) {
    return undefined;
  }
  const pct = (100 * status.total) / status.contextWindow;
  if (pct > 0 && pct < 1) {
    return "<1%";
  }
  return `${Math.round(pct)}%`;
}

/** Status bar text, e.g. `$(symbol-numeric) 12,345 tok · 6% · exact`, `$(symbol-numeric) ≈ 980 tok · 1% · no key`,
 * or against a budget `$(warning) ≈ 346 / 300 budget · no key`. */
export function statusText(status: FileStatus | null): string {
  if (status === null || status.total === null) {
    return status?.state === "counting" ? "$(sync~spin) counting…" : "$(symbol-numeric) — tok";
  }
  const approx = status.exact && status.state === "exact" ? "" : "≈ ";
  const over = status.overBudget === true;
  const icon = status.state === "counting" ? "$(sync~spin)" : over ? "$(warning)" : "$(symbol-numeric)";
  const budget = status.budget ?? null;
  const pieces =
    budget !== null
      ? [`${icon} ${approx}${formatTokens(status.total)} / ${formatTokens(budget)} budget`]
      : [`${icon} ${approx}${formatTokens(status.total)} tok`];
  const pct = windowPercent(status);
  if (pct !== undefined && budget === null) {
    pieces.push(pct);
  }
  pieces.push(STATE_LABEL[status.state] ?? status.state);
  return pieces.join(" · ");
}

/** Background of the item: warning when over budget or the API failed, error when no server runs. */
export function statusLevel(status: FileStatus | null, failed: boolean): "none" | "warning" | "error" {
  if (failed) {
    return "error";
  }
  return status?.overBudget === true || status?.state === "error" ? "warning" : "none";
}

/** Markdown tooltip: model, total, window, cost and what the state means. */
export function statusTooltip(status: FileStatus | null): string {
  if (status === null) {
    return "promptls has no count for this file yet.";
  }
  const lines: string[] = [];
  if (status.model) {
    lines.push(`**${status.model}**`);
  }
  if (status.total !== null) {
    const window = status.contextWindow ? ` of ${formatTokens(status.contextWindow)} (${windowPercent(status)})` : "";
    lines.push(`${status.exact ? "" : "≈ "}${formatTokens(status.total)} input tokens${window}`);
    if (status.budget !== null && status.budget !== undefined) {
      const over = status.overBudget ? ` — **over by ${formatTokens(status.total - status.budget)}**` : "";
      lines.push(`budget ${formatTokens(status.budget)}${over}`);
    }
  }
  if (status.costUsd !== null && status.costUsd !== undefined) {
    lines.push(`≈ $${status.costUsd.toFixed(status.costUsd < 0.01 ? 4 : 3)} per request (input)`);
  }
  lines.push(STATE_HELP[status.state] ?? status.state);
  lines.push("Click for the per-part breakdown.");
  return lines.join("\n\n");
}

/** Nesting depth of a part id: `messages[0]` → 0, `messages[0].content[1]` → 1, `tools[2]` → 1. */
export function partDepth(id: string): number {
  const dots = id.split(".").length - 1;
  return /^tools\[\d+\]$/.test(id) ? 1 : dots;
}

export interface BreakdownRow {
  label: string;
  description: string;
  line: number;
}

/** Tokens of the request framing: the total minus its top-level parts (parts + overhead = total). */
export function overheadTokens(status: Pick<FileStatus, "total" | "parts">): number | undefined {
  if (status.total === null || status.parts.length === 0) {
    return undefined;
  }
  const parts = status.parts.filter((p) => partDepth(p.id) === 0).reduce((sum, p) => sum + p.tokens, 0);
  return status.total - parts;
}

/** One row per part for the QuickPick, indented by nesting, then the overhead that completes the total. */
export function breakdownRows(status: Pick<FileStatus, "total" | "exact" | "parts">): BreakdownRow[] {
  const rows = status.parts.map((part) => ({
    label: `${"\u2003".repeat(partDepth(part.id))}${part.label}`,
    description: `${part.exact ? "" : "≈ "}${formatTokens(part.tokens)} tok · ${part.exact ? "exact" : "estimate"}`,
    line: part.line,
  }));
  const overhead = overheadTokens(status);
  if (overhead !== undefined && overhead !== 0) {
    rows.push({
      label: "request overhead",
      description: `${status.exact ? "" : "≈ "}${formatTokens(overhead)} tok · framing the API adds`,
      line: 0,
    });
  }
  return rows;
}
