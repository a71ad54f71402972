/**
 * promptls for VS Code: starts `promptls serve` for `*.prompt.yaml` files (which stay language `yaml`,
 * so the Red Hat YAML extension keeps working), and shows the active file's token count in the status bar.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from "vscode-languageclient/node";

import { clearApiKey, onApiKeyChanged, promptForApiKey, readApiKey } from "./apiKey";
import { E2eReporter } from "./e2eReport";
import {
  describe,
  findOnPath,
  inspectPython,
  isExecutableFile,
  type LaunchHost,
  type ManagedResult,
  probeCommand,
  resolveServer,
  runCommand,
} from "./launcher";
import { ensureManagedEnv } from "./managedEnv";
import { RECOUNT_WORKSPACE_COMMAND, STATUS_CHANGED_NOTIFICATION, type StatusChangedParams } from "./protocol";
import { configuresPromptls, DOCUMENT_SELECTOR, hasPromptName, START_GLOB } from "./selector";
import { explicitSettings, SECTION } from "./settings";
import { PromptStatusBar, SHOW_BREAKDOWN_COMMAND, SHOW_FAILURE_COMMAND } from "./statusBar";

export { DOCUMENT_SELECTOR } from "./selector";

/** A YAML file on disk: sent to the server, which decides from the root's `include` whether it is a prompt file. */
function isYamlFile(doc: vscode.TextDocument): boolean {
  return vscode.languages.match(DOCUMENT_SELECTOR, doc) > 0;
}

/** A YAML file with a GitHub Models prompt name (known to be a prompt file before the server answers). */
function isPromptFile(doc: vscode.TextDocument): boolean {
  return isYamlFile(doc) && hasPromptName(doc.uri.fsPath);
}

/** The Python extension's active interpreter, if that extension is installed and answers. */
async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension("ms-python.python");
  if (ext === undefined) {
    return undefined;
  }
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envPath = api?.environments?.getActiveEnvironmentPath?.(vscode.workspace.workspaceFolders?.[0]?.uri);
    if (envPath === undefined) {
      return undefined;
    }
    const resolved = await api.environments.resolveEnvironment?.(envPath);
    return resolved?.executable?.uri?.fsPath ?? envPath.path;
  } catch {
    return undefined;
  }
}

/** Opens the promptls.server settings where they can be set: they are machine-overridable, so in a
 * remote window (SSH, WSL, code-server) they live on the Remote tab, not the User tab. */
export function openServerSettings(): Thenable<unknown> {
  const remote = vscode.env.remoteName !== undefined;
  // An options object: openRemoteSettings drops a bare query string.
  return vscode.commands.executeCommand(remote ? "workbench.action.openRemoteSettings" : "workbench.action.openSettings", { query: "promptls.server" });
}

const OPEN_SETTINGS = "Open Settings";
const RETRY = "Retry";
const SHOW_OUTPUT = "Show Output";

class PromptlsExtension implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel("promptls", { log: true });
  readonly statusBar = new PromptStatusBar(isYamlFile);
  private client: LanguageClient | undefined;
  private queue: Promise<void> = Promise.resolve();
  private restartPending = false;
  private missingNotified = false;
  /** Why the last start failed (the status bar shows it again on click); undefined while fine. */
  private failure: string | undefined;
  private readonly logged = new Set<string>();
  /** Test-only observer (PROMPTLS_E2E_REPORT). */
  reporter: E2eReporter | undefined;
  private fallbackRecount: vscode.Disposable | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {}

  get running(): boolean {
    return this.client !== undefined;
  }

  /** Starts, stops and restarts run one at a time; restart requests made while one waits coalesce. */
  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job).catch((err) => this.output.error(`promptls: ${String(err)}`));
    return this.queue;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  restart(): Promise<void> {
    if (this.restartPending) {
      return this.queue;
    }
    this.restartPending = true;
    return this.enqueue(async () => {
      this.restartPending = false;
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    const trusted = vscode.workspace.isTrusted;
    const config = vscode.workspace.getConfiguration("promptls.server");
    // Settings listed in restrictedConfigurations already ignore workspace values when untrusted; the
    // Python extension's interpreter may live inside the workspace, so it is not used then either.
    // Probes run outside the workspace folder, so a checkout cannot plant modules or files they pick up.
    const cwd = this.context.extensionPath;
    const host: LaunchHost = {
      platform: process.platform,
      env: process.env,
      isExecutable: isExecutableFile,
      probe: (command, args) => probeCommand(command, args, process.env, undefined, cwd),
      inspectPython: (python) => inspectPython(python, process.env, cwd),
      activePython: () => (trusted ? pythonExtensionInterpreter() : Promise.resolve(undefined)),
      managed: (basePython) => this.managedEnv(basePython),
    };
    const resolution = await resolveServer(
      { serverPath: config.get<string>("path") ?? "", python: config.get<string>("python") ?? "" },
      host,
    );
    if (!resolution.ok) {
      this.fail(resolution.message, resolution.attempts.map((a) => `  ${a.what}: ${a.ok ? "works" : a.reason}`));
      return;
    }
    this.failure = undefined;
    if (this.reporter) {
      this.reporter.failure = null;
      this.reporter.server = { source: resolution.candidate.source, command: describe(resolution.candidate) };
    }
    for (const attempt of resolution.attempts) {
      this.output.info(`server candidate ${attempt.what}: ${attempt.ok ? "works" : attempt.reason}`);
    }

    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ANTHROPIC_API_KEY;
    const key = trusted ? await readApiKey(this.context) : undefined;
    if (key) {
      env.ANTHROPIC_API_KEY = key;
    } else if (trusted && process.env.ANTHROPIC_API_KEY) {
      env.ANTHROPIC_API_KEY = process.env.ANTHROPIC_API_KEY;
    }
    const { candidate } = resolution;
    const args = [...candidate.args, "serve", ...(trusted ? [] : ["--mode", "offline"])];
    const serverOptions: ServerOptions = {
      command: candidate.command,
      args,
      transport: TransportKind.stdio,
      options: { env },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      initializationOptions: { trusted },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const answer = await next(params, token);
            if (!Array.isArray(answer)) {
              return answer;
            }
            return params.items.map((item, i) => {
              if (item.section !== SECTION) {
                return answer[i];
              }
              const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              const config = vscode.workspace.getConfiguration(SECTION, scope);
              return explicitSettings((key) => config.inspect(key));
            });
          },
        },
      },
    };
    this.output.info(
      `starting ${describe(candidate)} ${args.slice(candidate.args.length).join(" ")} ` +
        `(workspace ${trusted ? "trusted" : "untrusted: offline"}, API key ${env.ANTHROPIC_API_KEY ? "set" : "not set"})`,
    );
    const client = new LanguageClient("promptls", "promptls", serverOptions, clientOptions);
    client.onNotification(STATUS_CHANGED_NOTIFICATION, (params: StatusChangedParams) => {
      void this.statusBar.refresh(params?.uri);
    });
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      this.client = undefined;
      this.fail(`promptls: the server (${describe(candidate)}) did not start: ${String(err)}`, []);
      return;
    }
    this.registerRecountFallback(client);
    this.statusBar.setClient(client);
  }

  /** The language client registers server commands itself; cover the palette entry if the server lacks it. */
  private registerRecountFallback(client: LanguageClient): void {
    const commands = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (!commands.includes(RECOUNT_WORKSPACE_COMMAND) && this.fallbackRecount === undefined) {
      this.fallbackRecount = vscode.commands.registerCommand(RECOUNT_WORKSPACE_COMMAND, () =>
        vscode.window.showWarningMessage("promptls: this server version does not support recounting the workspace."),
      );
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.statusBar.setClient(undefined);
    this.fallbackRecount?.dispose();
    this.fallbackRecount = undefined;
    if (client !== undefined) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.warn(`stopping the server: ${String(err)}`);
      }
    }
  }

  /** The environment the extension manages (created once, with progress). */
  private async managedEnv(basePython: string | undefined): Promise<ManagedResult> {
    const pkg = this.context.extension.packageJSON as { promptlsServer?: { version?: string } };
    const version = pkg.promptlsServer?.version;
    if (!version) {
      return { ok: false, reason: "this build of the extension pins no promptls version" };
    }
    const bundled = path.join(this.context.extensionPath, "bundled", process.platform === "win32" ? "uv.exe" : "uv");
    const uv = existsSync(bundled)
      ? bundled
      : await findOnPath("uv", { platform: process.platform, env: process.env, isExecutable: isExecutableFile });
    return ensureManagedEnv(
      {
        storageDir: this.context.globalStorageUri.fsPath,
        version,
        platform: process.platform,
        uv,
        uvMissing: `this ${process.platform}-${process.arch} build of the extension bundles no uv and none is on PATH`,
        run: (command, args, timeoutMs) => runCommand(command, args, { timeoutMs, cwd: this.context.extensionPath }),
        progress: (message) => {
          this.progress?.report({ message });
          this.reporter?.progress.push(message);
        },
        withProgress: (task) =>
          Promise.resolve(
            vscode.window.withProgress(
              { location: vscode.ProgressLocation.Notification, title: `promptls: setting up the language server (promptls ${version}, once)` },
              async (progress) => {
                this.progress = progress;
                try {
                  return await task();
                } finally {
                  this.progress = undefined;
                }
              },
            ),
          ),
        log: (line) => this.output.info(line),
      },
      basePython,
    );
  }

  private progress: vscode.Progress<{ message?: string }> | undefined;

  /** No server: remember why (for the status bar), log it once, and tell the user once. */
  private fail(message: string, details: string[]): void {
    this.failure = message;
    if (this.reporter) {
      this.reporter.failure = message;
      this.reporter.schedule();
    }
    if (!this.logged.has(message)) {
      this.logged.add(message);
      this.output.error([message, ...details].join("\n"));
    }
    this.statusBar.setFailure(message);
    if (!this.missingNotified) {
      this.missingNotified = true;
      void this.showFailure();
    }
  }

  /** The failure message with its buttons (also what a click on the status bar item shows). */
  async showFailure(): Promise<void> {
    const message = this.failure;
    if (message === undefined) {
      return;
    }
    const choice = await vscode.window.showErrorMessage(message, OPEN_SETTINGS, RETRY, SHOW_OUTPUT);
    if (choice === OPEN_SETTINGS) {
      await openServerSettings();
    } else if (choice === RETRY) {
      await this.userRestart();
    } else if (choice === SHOW_OUTPUT) {
      this.output.show();
    }
  }

  /** An explicit restart may show the not-found notification again. */
  userRestart(): Promise<void> {
    this.missingNotified = false;
    return this.restart();
  }

  dispose(): void {
    this.statusBar.dispose();
    this.fallbackRecount?.dispose();
    this.output.dispose();
  }
}

let extension: PromptlsExtension | undefined;

/** Starts the server only when a prompt file is open or the workspace may hold one: a prompt-named
 * file, a promptls.toml or a pyproject.toml with `[tool.promptls]` (their `include` may name any YAML). */
async function workspaceHasPrompts(): Promise<boolean> {
  if (vscode.workspace.textDocuments.some(isPromptFile)) {
    return true;
  }
  const found = await vscode.workspace.findFiles(START_GLOB, "**/node_modules/**", 1);
  if (found.length > 0) {
    return true;
  }
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, "pyproject.toml"));
      if (configuresPromptls(new TextDecoder().decode(bytes))) {
        return true;
      }
    } catch {
      // no pyproject.toml in this folder
    }
  }
  return false;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const ext = new PromptlsExtension(context);
  extension = ext;
  context.subscriptions.push(
    ext,
    vscode.commands.registerCommand("promptls.restartServer", () => ext.userRestart()),
    vscode.commands.registerCommand("promptls.showOutput", () => ext.output.show()),
    vscode.commands.registerCommand(SHOW_BREAKDOWN_COMMAND, () => ext.statusBar.showBreakdown()),
    vscode.commands.registerCommand(SHOW_FAILURE_COMMAND, () => ext.showFailure()),
    vscode.commands.registerCommand("promptls.setApiKey", async () => {
      if (await promptForApiKey(context)) {
        void vscode.window.showInformationMessage(
          vscode.workspace.isTrusted
            ? "promptls: API key stored; restarting the server for exact counts."
            : "promptls: API key stored. It is used once you trust this workspace.",
        );
        await ext.restart();
      }
    }),
    vscode.commands.registerCommand("promptls.clearApiKey", async () => {
      await clearApiKey(context);
      void vscode.window.showInformationMessage("promptls: API key removed; counts are offline estimates now.");
      await ext.restart();
    }),
    onApiKeyChanged(context, () => {
      if (ext.running) {
        void ext.restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      ext.output.info("workspace trusted: restarting with API access");
      void (ext.running ? ext.restart() : ext.start());
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // A new server path or interpreter is worth a fresh try, and a fresh message if it fails too.
      if (e.affectsConfiguration("promptls.server")) {
        void ext.userRestart();
      }
    }),
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (isPromptFile(doc) && !ext.running) {
        void ext.start();
      }
    }),
    vscode.window.onDidChangeActiveTextEditor(() => void ext.statusBar.refresh()),
  );

  const reportFile = process.env.PROMPTLS_E2E_REPORT;
  if (reportFile) {
    const reporter = new E2eReporter(reportFile, isPromptFile);
    ext.reporter = reporter;
    ext.statusBar.onDidUpdate = (status, text) => reporter.statusUpdated(status, text);
    context.subscriptions.push(reporter);
  }

  if (await workspaceHasPrompts()) {
    await ext.start();
  }
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
}
