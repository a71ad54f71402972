// Drives code-server (real VS Code in a browser) with Debian Chromium through playwright-core:
// opens a prompt file, waits for promptls' inlay hints, the budget squiggle and the status bar item,
// checks what the extension saw through VS Code's API (PROMPTLS_E2E_REPORT), and takes screenshots.
//
//   node drive.cjs   (all input from the environment, set by run.sh)
//   E2E_MODULES  node_modules holding playwright-core     E2E_URL     code-server URL incl. ?folder=
//   E2E_FILE     file name to open with Ctrl+P            E2E_REPORT  JSON the extension writes
//   E2E_SHOT     screenshot path (editor)                  E2E_SHOT_BREAKDOWN  screenshot path (breakdown)
//   E2E_FAIL_SHOT  where to put a screenshot of a failure
//   E2E_EXPECT_STATE  the counting state the status must report (e.g. "offline" in Restricted Mode)
//   E2E_SET_KEY  run "promptls: Set Anthropic API Key" with this (fake) key and wait for the restarted
//                server to leave the no-key state
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const { chromium } = require(require.resolve("playwright-core", { paths: [process.env.E2E_MODULES] }));

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
};
const URL = env("E2E_URL");
const FILE = env("E2E_FILE");
const REPORT = env("E2E_REPORT");
const SHOT = env("E2E_SHOT");
const SHOT_BREAKDOWN = process.env.E2E_SHOT_BREAKDOWN;
const EXPECT_STATE = process.env.E2E_EXPECT_STATE;
const SET_KEY = process.env.E2E_SET_KEY;
const SCENARIO = process.env.E2E_SCENARIO || "setting";
const FORBIDDEN_PATH = process.env.E2E_FORBIDDEN_PATH;
/** The status item's count: `12,345 tok · 6%` or `≈ 346 / 300 budget`. */
const STATUS_TEXT = /\d[\d,]* (tok|\/ [\d,]+ budget)/;
const BUDGET_CODES = new Set(["budget-exceeded", "glob-budget-exceeded", "context-window-exceeded", "workspace-budget-exceeded"]);

const t0 = Date.now();
const log = (msg) => console.log(`[drive +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) {
        return value;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? ` (${last.message})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function readReport() {
  try {
    return JSON.parse(fs.readFileSync(REPORT, "utf8"));
  } catch {
    return undefined;
  }
}

/** The report is complete once it holds hints with tokens, a budget diagnostic and a status. */
function reportProblems(report) {
  if (report === undefined) {
    return ["no report written yet"];
  }
  const problems = [];
  if (!report.uri.endsWith(`/${FILE}`)) {
    problems.push(`report is for ${report.uri}, not ${FILE}`);
  }
  if (!report.inlayHints.some((h) => /\d[\d,]* tok/.test(h.label))) {
    problems.push(`no inlay hint with a token count among ${JSON.stringify(report.inlayHints.map((h) => h.label))}`);
  }
  if (!report.diagnostics.some((d) => BUDGET_CODES.has(d.code) && (d.severity === "Warning" || d.severity === "Error"))) {
    problems.push(`no budget diagnostic among ${JSON.stringify(report.diagnostics.map((d) => d.code))}`);
  }
  if (!report.status || typeof report.status.total !== "number" || !STATUS_TEXT.test(report.statusBarText)) {
    problems.push(`no file status (status bar text ${JSON.stringify(report.statusBarText)})`);
  } else if (EXPECT_STATE && report.status.state !== EXPECT_STATE) {
    problems.push(`status state is ${report.status.state}, expected ${EXPECT_STATE}`);
  }
  if (SCENARIO === "managed" && report.server?.source !== "managed") {
    problems.push(`the server came from ${JSON.stringify(report.server)}, not the managed environment`);
  }
  return problems;
}

/** The extension host's PATH must not hold the checkout's venv (where a promptls is installed). */
function checkCleanPath(report) {
  if (FORBIDDEN_PATH && report.extensionHostPath.split(":").includes(FORBIDDEN_PATH)) {
    throw new Error(`the extension host's PATH holds ${FORBIDDEN_PATH}: ${report.extensionHostPath}`);
  }
}

const NOT_FOUND = "no language server could be started";

/** The error toast holding the not-found message; returns its text. */
async function failureToast(page, what) {
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: NOT_FOUND }).first();
  await toast.waitFor({ state: "visible", timeout: 90_000 }).catch(() => {
    throw new Error(`no "${NOT_FOUND}" notification ${what}`);
  });
  return { toast, text: (await toast.locator(".notification-list-item-message").innerText()).trim() };
}

/** Not-found: the message names every candidate and why, Open Settings lands on the Remote tab, the
 * status bar item shows the same message again. */
async function notFound(page) {
  const first = await failureToast(page, "after opening the file");
  log(`failure message: ${first.text}`);
  const expected = [
    /a selected interpreter: none/,
    /`python3` on PATH \(\/usr\/bin\/python3\): it is Python 3\.11\.\d+; promptls needs 3\.12\+/,
    /the managed environment: uv could not create it with Python >=3\.12/,
    /promptls\.server\.python/,
  ];
  for (const re of expected) {
    if (!re.test(first.text)) {
      throw new Error(`the failure message does not match ${re}: ${first.text}`);
    }
  }
  const report = readReport();
  if (!report || report.failure !== first.text) {
    throw new Error(`the extension's report holds another failure: ${JSON.stringify(report && report.failure)}`);
  }
  // "Which PATH": the extension host's own (VS Code takes it from a login shell, not from code-server's).
  if (!first.text.includes(`\`promptls\` on PATH: not found on PATH=${report.extensionHostPath};`)) {
    throw new Error(`the message does not name the extension host's PATH ${report.extensionHostPath}`);
  }
  checkCleanPath(report);
  await page.mouse.move(700, 430);
  await page.screenshot({ path: SHOT });
  log(`screenshot ${SHOT}`);

  await first.toast.getByRole("button", { name: "Open Settings" }).click();
  const editor = page.locator(".settings-editor");
  await editor.waitFor({ state: "visible", timeout: 30_000 });
  const tab = await until(
    "the settings editor's selected tab",
    async () => (await page.locator(".settings-tabs-widget .action-label.checked").first().innerText()).trim(),
    15_000,
  );
  const shown = await until(
    "the promptls.server settings in the settings editor",
    async () => {
      const text = await page.locator(".settings-editor .settings-body").innerText();
      return /Server: Path/.test(text) && /Server: Python/.test(text) ? text : undefined;
    },
    15_000,
  );
  if (!/^Remote/.test(tab)) {
    throw new Error(`Open Settings selected the "${tab}" tab, not Remote`);
  }
  if (/No Settings Found/.test(shown)) {
    throw new Error("the settings editor shows No Settings Found");
  }
  log(`Open Settings: tab "${tab.replace(/\s+/g, " ")}", promptls.server.path and .python shown`);
  if (SHOT_BREAKDOWN) {
    await page.screenshot({ path: SHOT_BREAKDOWN.replace(/breakdown/, "settings") });
  }

  // Back to the prompt file; the status bar item says the server is missing and a click repeats the message.
  await page.keyboard.press("Control+W");
  await page.keyboard.press("Escape");
  await until("the toast to close", async () => (await page.locator(".notifications-toasts .notification-toast", { hasText: NOT_FOUND }).count()) === 0, 15_000);
  const item = page.locator(".statusbar-item:has(.codicon-error)", { hasText: "promptls" }).first();
  await item.waitFor({ state: "visible", timeout: 15_000 });
  const itemLabel = await item.getAttribute("aria-label");
  await item.click();
  const again = await failureToast(page, "after clicking the status bar item");
  if (again.text !== first.text) {
    throw new Error(`the status bar click showed another message: ${again.text}`);
  }
  log(`status bar item (${itemLabel}) click shows the same message`);
  console.log(
    "E2E_RESULT " +
      JSON.stringify({ vscodeVersion: report.vscodeVersion, file: FILE, scenario: SCENARIO, failure: first.text, settingsTab: tab.replace(/\s+/g, " "), statusBarItem: itemLabel, seconds: (Date.now() - t0) / 1000 }),
  );
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
  // Reduced motion: the workbench skips its fade-ins, so screenshots show finished UI.
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, reducedMotion: "reduce" });
  page.on("pageerror", (err) => log(`page error: ${err.message}`));
  try {
    log(`browser ${browser.version()} up; opening ${URL}`);
    await page.goto(URL, { waitUntil: "domcontentloaded", timeout: 60_000 });
    await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
    await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 60_000 });
    log("workbench ready");

    await until(
      `the editor tab for ${FILE}`,
      async () => {
        await page.keyboard.press("Control+P");
        const input = page.locator(".quick-input-widget input");
        await input.waitFor({ state: "visible", timeout: 5_000 });
        await input.fill(FILE);
        await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 5_000 });
        await page.keyboard.press("Enter");
        return page.locator(`.tabs-container .tab[aria-label*="${FILE}"]`).first().isVisible({ timeout: 5_000 });
      },
      45_000,
    );
    log(`opened ${FILE}`);
    if (SCENARIO === "not-found") {
      await notFound(page);
      return;
    }

    const hint = await until(
      "an inlay hint with a token count in the editor",
      async () => {
        // Each inlay hint is its own leaf span inside the view line, apart from the source text.
        const leaves = await page.$$eval(".monaco-editor .view-lines span", (els) =>
          els.filter((e) => e.children.length === 0).map((e) => e.textContent ?? ""),
        );
        return leaves.find((t) => /\d[\d,]*(\s*\/\s*[\d,]+)?\s*tok/.test(t))?.trim();
      },
      90_000,
    );
    log(`inlay hint rendered: "${hint}"`);

    const squiggle = await until(
      "a warning or error squiggle",
      async () => (await page.locator(".monaco-editor .squiggly-warning, .monaco-editor .squiggly-error").count()) > 0,
      60_000,
    );
    log(`squiggle rendered: ${squiggle}`);

    const statusText = await until(
      "the promptls status bar item",
      async () => {
        const texts = await page.locator(".statusbar-item").allInnerTexts();
        return texts.find((t) => STATUS_TEXT.test(t));
      },
      60_000,
    );
    log(`status bar: "${statusText.trim()}"`);

    const report = await until(
      "the extension's report of what VS Code received",
      async () => (reportProblems(readReport()).length === 0 ? readReport() : undefined),
      30_000,
    ).catch((err) => {
      throw new Error(`${err.message}: ${reportProblems(readReport()).join("; ")}`);
    });
    log(`API report: VS Code ${report.vscodeVersion}, ${report.inlayHints.length} hints, ${report.diagnostics.length} diagnostics`);

    await page.mouse.move(700, 430);
    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.screenshot({ path: SHOT });
    log(`screenshot ${SHOT}`);

    let breakdownRows = 0;
    if (SHOT_BREAKDOWN) {
      await page.locator(".statusbar-item", { hasText: STATUS_TEXT }).first().click();
      await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 15_000 });
      breakdownRows = await page.locator(".quick-input-list .monaco-list-row").count();
      await until(
        "the QuickPick to finish fading in",
        () => page.$eval(".quick-input-widget", (el) => getComputedStyle(el).opacity === "1"),
        5_000,
      );
      await page.screenshot({ path: SHOT_BREAKDOWN });
      log(`breakdown QuickPick shows ${breakdownRows} rows; screenshot ${SHOT_BREAKDOWN}`);
      // Picking the last part moves the cursor to its line (the status bar shows "Ln N, Col M").
      const parts = report.status.parts;
      const target = parts[parts.length - 1];
      for (let i = 0; i < parts.length - 1; i++) {
        await page.keyboard.press("ArrowDown");
      }
      await page.keyboard.press("Enter");
      await until(
        `the cursor on line ${target.line + 1} after picking "${target.label}"`,
        async () => (await page.locator(".statusbar-item").allInnerTexts()).some((t) => t.startsWith(`Ln ${target.line + 1},`)),
        10_000,
      );
      log(`picking "${target.label}" jumped to line ${target.line + 1}`);
    }

    let stateWithKey;
    if (SET_KEY) {
      const before = Date.now();
      await page.keyboard.press("F1");
      const input = page.locator(".quick-input-widget input").first();
      await input.waitFor({ state: "visible", timeout: 10_000 });
      await input.fill(">promptls: Set Anthropic API Key");
      await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 10_000 });
      await page.keyboard.press("Enter");
      const password = page.locator('.quick-input-widget input[type="password"]');
      await password.waitFor({ state: "visible", timeout: 10_000 });
      await password.fill(SET_KEY);
      await page.keyboard.press("Enter");
      const withKey = await until(
        "the server restarted with the API key (status leaves no-key)",
        async () => {
          const r = readReport();
          return r && Date.parse(r.writtenAt) > before && r.status && r.status.state !== "no-key" ? r : undefined;
        },
        60_000,
      );
      stateWithKey = withKey.status.state;
      log(`after Set API Key the status is ${stateWithKey}: "${withKey.statusBarText}"`);
    }

    if (SCENARIO === "managed") {
      checkCleanPath(report);
      if (!report.progress.some((m) => m.startsWith("installing promptls"))) {
        throw new Error(`no progress was reported while the environment was made: ${JSON.stringify(report.progress)}`);
      }
      log(`managed environment: ${report.server.command}; progress ${JSON.stringify(report.progress)}`);
    }
    const budget = report.diagnostics.find((d) => BUDGET_CODES.has(d.code));
    console.log(
      "E2E_RESULT " +
        JSON.stringify({
          vscodeVersion: report.vscodeVersion,
          file: FILE,
          renderedHint: hint,
          statusBar: statusText.trim(),
          hints: report.inlayHints.map((h) => `${h.line}:${h.label}`),
          budgetDiagnostic: budget && `${budget.severity} ${budget.code} line ${budget.line}: ${budget.message}`,
          state: report.status.state,
          server: report.server,
          progress: report.progress,
          stateWithKey,
          breakdownRows,
          seconds: (Date.now() - t0) / 1000,
        }),
    );
  } catch (err) {
    const failShot = process.env.E2E_FAIL_SHOT || `${SHOT.replace(/\.png$/, "")}.failure.png`;
    await page.screenshot({ path: failShot }).catch(() => undefined);
    console.error(`FAIL: ${err.message}\n(screenshot of the failure: ${failShot})`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`FAIL: ${err.stack || err}`);
  process.exit(1);
});
