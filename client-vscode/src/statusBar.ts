/** The status bar item for the active prompt file and its per-part breakdown QuickPick. */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

import { FILE_STATUS_REQUEST, type FileStatus, type FileStatusParams } from "./protocol";
import { showsStatus } from "./selector";
import { breakdownRows, statusLevel, statusText, statusTooltip } from "./status";

export const SHOW_BREAKDOWN_COMMAND = "promptls.showBreakdown";
/** Internal: what a click on the item does while no server runs (shows why, with the fix buttons). */
export const SHOW_FAILURE_COMMAND = "promptls.showServerProblem";

export class PromptStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("promptls.tokens", vscode.StatusBarAlignment.Right, 100);
  private client: LanguageClient | undefined;
  private current: FileStatus | null = null;
  private generation = 0;
  private failure: string | undefined;
  /** Called after every refresh with what is shown (the e2e report uses it). */
  onDidUpdate: ((status: FileStatus | null, text: string) => void) | undefined;

  /** `isCandidate`: a document the server is sent (any YAML file); which of them show an item is
   * `showsStatus`'s call, on the server's answer. */
  constructor(private readonly isCandidate: (doc: vscode.TextDocument) => boolean) {
    this.item.name = "promptls tokens";
    this.item.command = SHOW_BREAKDOWN_COMMAND;
  }

  setClient(client: LanguageClient | undefined): void {
    this.client = client;
    if (client !== undefined) {
      this.failure = undefined;
    }
    void this.refresh();
  }

  /** No server could be started: the item says so, and a click shows the message again. */
  setFailure(message: string): void {
    this.client = undefined;
    this.failure = message;
    void this.refresh();
  }

  /** Re-asks the server for the active editor; ignores answers that arrive after a newer request. */
  async refresh(uri?: string): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || !this.isCandidate(editor.document)) {
      this.item.hide();
      return;
    }
    const fsPath = editor.document.uri.fsPath;
    const active = editor.document.uri.toString();
    if (uri !== undefined && uri !== active) {
      return;
    }
    const client = this.client;
    if (this.failure !== undefined && showsStatus(fsPath, false)) {
      this.show(null, "$(error) promptls", `${this.failure}\n\nClick for the fix.`, SHOW_FAILURE_COMMAND);
      return;
    }
    if (client === undefined || !client.isRunning()) {
      if (showsStatus(fsPath, false)) {
        this.show(null, "$(sync~spin) promptls", "The promptls server is starting.");
      } else {
        this.item.hide();
      }
      return;
    }
    const generation = ++this.generation;
    let status: FileStatus | null;
    try {
      status = await client.sendRequest<FileStatus | null>(FILE_STATUS_REQUEST, { uri: active } satisfies FileStatusParams);
    } catch (err) {
      client.warn(`promptls/fileStatus failed: ${String(err)}`);
      status = null;
    }
    if (generation !== this.generation) {
      return;
    }
    if (!showsStatus(fsPath, status !== null)) {
      this.current = null;
      this.item.hide(); // a YAML file the root's include does not match: not ours
      return;
    }
    this.show(status, statusText(status), statusTooltip(status));
  }

  private show(status: FileStatus | null, text: string, tooltip: string, command = SHOW_BREAKDOWN_COMMAND): void {
    this.current = status;
    this.item.text = text;
    this.item.command = command;
    this.item.tooltip = new vscode.MarkdownString(tooltip, true);
    const level = statusLevel(status, this.failure !== undefined);
    this.item.backgroundColor =
      level === "none" ? undefined : new vscode.ThemeColor(level === "error" ? "statusBarItem.errorBackground" : "statusBarItem.warningBackground");
    this.item.show();
    this.onDidUpdate?.(status, text);
  }

  /** QuickPick of the parts; picking one moves the cursor to its line. */
  async showBreakdown(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const status = this.current;
    if (editor === undefined || status === null || status.parts.length === 0) {
      void vscode.window.showInformationMessage("promptls: no token breakdown for this editor yet.");
      return;
    }
    const items = breakdownRows(status);
    const picked = await vscode.window.showQuickPick(items, {
      title: `${statusText(status).replace(/^\$\([^)]*\)\s*/, "")} — ${status.model ?? "prompt"}`,
      placeHolder: "Jump to a part",
      matchOnDescription: true,
    });
    if (picked === undefined || vscode.window.activeTextEditor !== editor) {
      return;
    }
    const line = Math.min(Math.max(picked.line, 0), editor.document.lineCount - 1);
    const pos = new vscode.Position(line, editor.document.lineAt(line).firstNonWhitespaceCharacterIndex);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  dispose(): void {
    this.item.dispose();
  }
}
