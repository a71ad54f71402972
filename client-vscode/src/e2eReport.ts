/**
 * Test-only: when PROMPTLS_E2E_REPORT names a file, write what VS Code's own API holds for the active
 * prompt editor (diagnostics, inlay hints, status bar) to it as JSON. The end-to-end test asserts on
 * this file as well as on the rendered DOM, so a selector change in VS Code cannot hide a regression.
 */
import { promises as fs } from "node:fs";
import * as vscode from "vscode";

import type { FileStatus } from "./protocol";

interface Report {
  vscodeVersion: string;
  uri: string;
  diagnostics: { line: number; character: number; severity: string; code: string; source: string; message: string }[];
  inlayHints: { line: number; character: number; label: string }[];
  status: FileStatus | null;
  statusBarText: string;
  /** How the server was found (source and command), or why none was. */
  server: { source: string; command: string } | null;
  failure: string | null;
  progress: string[];
  extensionHostPath: string;
  remoteName: string | null;
  writtenAt: string;
}

export class E2eReporter implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private status: FileStatus | null = null;
  private statusBarText = "";
  server: { source: string; command: string } | null = null;
  failure: string | null = null;
  readonly progress: string[] = [];
  private writing = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly isPromptFile: (doc: vscode.TextDocument) => boolean,
  ) {
    const timer = setInterval(() => this.schedule(), 1000);
    this.disposables.push(
      { dispose: () => clearInterval(timer) },
      vscode.languages.onDidChangeDiagnostics(() => this.schedule()),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
    );
  }

  statusUpdated(status: FileStatus | null, text: string): void {
    this.status = status;
    this.statusBarText = text;
    this.schedule();
  }

  schedule(): void {
    this.writing = this.writing.then(() => this.write()).catch(() => undefined);
  }

  private async write(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || !this.isPromptFile(editor.document)) {
      if (this.failure !== null) {
        await this.writeJson({ uri: "", diagnostics: [], inlayHints: [], status: null } as Partial<Report>);
      }
      return;
    }
    const doc = editor.document;
    const range = new vscode.Range(0, 0, doc.lineCount, 0);
    const hints =
      (await vscode.commands.executeCommand<vscode.InlayHint[]>("vscode.executeInlayHintProvider", doc.uri, range)) ?? [];
    const report: Report = {
      vscodeVersion: vscode.version,
      uri: doc.uri.toString(),
      diagnostics: vscode.languages.getDiagnostics(doc.uri).map((d) => ({
        line: d.range.start.line,
        character: d.range.start.character,
        severity: vscode.DiagnosticSeverity[d.severity],
        code: typeof d.code === "object" ? String(d.code.value) : String(d.code ?? ""),
        source: d.source ?? "",
        message: d.message,
      })),
      inlayHints: hints.map((h) => ({
        line: h.position.line,
        character: h.position.character,
        label: typeof h.label === "string" ? h.label : h.label.map((p) => p.value).join(""),
      })),
      status: this.status,
      statusBarText: this.statusBarText,
      server: this.server,
      failure: this.failure,
      progress: this.progress,
      extensionHostPath: process.env.PATH ?? "",
      remoteName: vscode.env.remoteName ?? null,
      writtenAt: new Date().toISOString(),
    };
    await this.writeJson(report);
  }

  private async writeJson(partial: Partial<Report>): Promise<void> {
    const report = {
      vscodeVersion: vscode.version,
      statusBarText: this.statusBarText,
      server: this.server,
      failure: this.failure,
      progress: this.progress,
      extensionHostPath: process.env.PATH ?? "",
      remoteName: vscode.env.remoteName ?? null,
      writtenAt: new Date().toISOString(),
      ...partial,
    };
    const tmp = `${this.file}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(report, null, 2));
    await fs.rename(tmp, this.file);
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
