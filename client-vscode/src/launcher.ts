/**
 * Finds the promptls server command: `promptls.server.path`, then the selected interpreter if it has
 * promptls, then `promptls` on PATH and `python3` on PATH, then the environment the extension manages
 * itself (managedEnv.ts). Pure apart from the injected probes, so the order and every failure reason
 * are unit-tested without VS Code.
 */
import { execFile } from "node:child_process";
import { constants as fsConstants, promises as fs } from "node:fs";
import * as path from "node:path";

export type CandidateSource = "setting" | "interpreter" | "path" | "managed";

export interface Candidate {
  /** Executable to spawn. */
  command: string;
  /** Arguments that come before the subcommand (`serve`), e.g. `["-P", "-m", "promptls"]`. */
  args: string[];
  source: CandidateSource;
}

export interface LaunchSettings {
  /** `promptls.server.path`; empty when unset. */
  serverPath: string;
  /** `promptls.server.python`; empty when unset. */
  python: string;
}

/** What `<python> -c INSPECT_SCRIPT` reports. */
export interface PythonInfo {
  version: string;
  /** promptls' installed version, when it imports. */
  promptls?: string;
  /** Why promptls does not import (e.g. `ModuleNotFoundError: No module named 'promptls'`). */
  error?: string;
}

export type Probe = { ok: true; detail?: string } | { ok: false; reason: string };
export type Inspection = { ok: true; info: PythonInfo } | { ok: false; reason: string };

export interface ManagedResult {
  ok: boolean;
  /** The environment's promptls executable when ok, else why it could not be made or run. */
  command?: string;
  reason?: string;
}

export interface LaunchHost {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** True when `file` exists and may be executed. */
  isExecutable(file: string): Promise<boolean>;
  /** Runs `command ...args --version`: ok when it exits 0 in time, else why not. */
  probe(command: string, args: string[]): Promise<Probe>;
  /** Asks a Python interpreter for its version and whether promptls imports. */
  inspectPython(python: string): Promise<Inspection>;
  /** The Python extension's active interpreter, if that extension is installed (and trusted). */
  activePython(): Promise<string | undefined>;
  /** The managed environment (created on first use, with progress); `basePython` is a 3.12+ we found. */
  managed(basePython: string | undefined): Promise<ManagedResult>;
}

export interface Attempt {
  /** What was tried, as the user would recognise it: "promptls.server.path (/x/promptls)". */
  what: string;
  ok: boolean;
  reason?: string;
  candidate?: Candidate;
}

export type Resolution =
  | { ok: true; candidate: Candidate; attempts: Attempt[] }
  | { ok: false; attempts: Attempt[]; message: string; explicit: boolean };

export const PROBE_ARGS = ["--version"];
export const PROBE_TIMEOUT_MS = 15_000;
export const MIN_PYTHON: [number, number] = [3, 12];

/**
 * Run with `-I` (isolated: no current directory or PYTHON* variables on sys.path, so nothing in the
 * opened folder is imported) — but keep the user site, where `pip install --user promptls` goes.
 */
export const INSPECT_SCRIPT = [
  "import json, site, sys",
  "sys.prefix == getattr(sys, 'base_prefix', sys.prefix) and site.addsitedir(site.getusersitepackages())",
  "r = {'version': '%d.%d.%d' % sys.version_info[:3]}",
  "try:",
  "    import importlib.metadata as m; r['promptls'] = m.version('promptls')",
  "    import promptls.cli",
  "except Exception as e:",
  "    r.pop('promptls', None); r['error'] = '%s: %s' % (type(e).__name__, e)",
  "print(json.dumps(r))",
].join("\n");

/** `python -I -c` only exists from 3.4 on; older ones fail the probe with a clear reason. */
export const INSPECT_ARGS = ["-I", "-c", INSPECT_SCRIPT];

/** Arguments to run the server from an interpreter: `-P` keeps the working directory off sys.path. */
export const PYTHON_SERVER_ARGS = ["-P", "-m", "promptls"];

/** Executable names to try for `name` in one PATH directory (PATHEXT on Windows). */
export function executableNames(name: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform !== "win32") {
    return [name];
  }
  const exts = (env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e.length > 0);
  return [name, ...exts.map((e) => name + e.toLowerCase()), ...exts.map((e) => name + e.toUpperCase())];
}

export function pathVariable(host: Pick<LaunchHost, "platform" | "env">): string {
  return host.platform === "win32" ? (host.env.Path ?? host.env.PATH ?? "") : (host.env.PATH ?? "");
}

/** First executable called `name` on PATH, searched the way a shell would. */
export async function findOnPath(name: string, host: Pick<LaunchHost, "platform" | "env" | "isExecutable">): Promise<string | undefined> {
  const win = host.platform === "win32";
  const join = win ? path.win32.join : path.posix.join;
  const isAbsolute = win ? path.win32.isAbsolute : path.posix.isAbsolute;
  for (const dir of pathVariable(host).split(win ? ";" : ":")) {
    // Relative entries ("." or "") would resolve inside the opened workspace: never run code from there.
    if (!isAbsolute(dir)) {
      continue;
    }
    for (const file of executableNames(name, host.platform, host.env)) {
      const full = join(dir, file);
      if (await host.isExecutable(full)) {
        return full;
      }
    }
  }
  return undefined;
}

export function versionAtLeast(version: string, min: [number, number] = MIN_PYTHON): boolean {
  const [major, minor] = version.split(".").map((n) => Number.parseInt(n, 10));
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

export function describe(candidate: Candidate): string {
  return [candidate.command, ...candidate.args].join(" ");
}

/** Checks one interpreter: ok when it is 3.12+ and promptls imports; `base` tells whether uv may use it. */
async function tryInterpreter(python: string, what: string, host: LaunchHost): Promise<{ attempt: Attempt; base?: string }> {
  const inspected = await host.inspectPython(python);
  if (!inspected.ok) {
    return { attempt: { what, ok: false, reason: inspected.reason } };
  }
  const { info } = inspected;
  if (!versionAtLeast(info.version)) {
    return { attempt: { what, ok: false, reason: `it is Python ${info.version}; promptls needs ${MIN_PYTHON.join(".")}+` } };
  }
  if (info.promptls === undefined) {
    const missing = info.error === undefined || /No module named '?promptls'?$/.test(info.error);
    const reason = missing ? `Python ${info.version} without promptls installed` : `Python ${info.version}: importing promptls failed (${info.error})`;
    return { attempt: { what, ok: false, reason }, base: python };
  }
  const candidate: Candidate = { command: python, args: PYTHON_SERVER_ARGS, source: "interpreter" };
  return { attempt: { what, ok: true, candidate }, base: python };
}

/** The first candidate that works, else every attempt with its reason and the message to show. */
export async function resolveServer(settings: LaunchSettings, host: LaunchHost): Promise<Resolution> {
  const attempts: Attempt[] = [];
  const serverPath = settings.serverPath.trim();
  if (serverPath.length > 0) {
    // An explicit path is the user's choice: say it is broken rather than silently run something else.
    const probe = await host.probe(serverPath, []);
    const candidate: Candidate = { command: serverPath, args: [], source: "setting" };
    attempts.push({ what: `promptls.server.path (${serverPath})`, ok: probe.ok, reason: probe.ok ? undefined : probe.reason, candidate });
    return probe.ok ? { ok: true, candidate, attempts } : { ok: false, attempts, message: notFoundMessage(attempts, host, true), explicit: true };
  }
  let base: string | undefined;

  const settingPython = settings.python.trim();
  const selected = settingPython || (await host.activePython())?.trim();
  if (selected) {
    const origin = settingPython ? "promptls.server.python" : "the Python extension's interpreter";
    const tried = await tryInterpreter(selected, `${origin} (${selected})`, host);
    attempts.push(tried.attempt);
    if (tried.attempt.ok && tried.attempt.candidate) {
      return { ok: true, candidate: tried.attempt.candidate, attempts };
    }
    base ??= tried.base;
  } else {
    attempts.push({ what: "a selected interpreter", ok: false, reason: "none (promptls.server.python is empty and no Python extension interpreter)" });
  }

  const onPath = await findOnPath("promptls", host);
  if (onPath === undefined) {
    attempts.push({ what: "`promptls` on PATH", ok: false, reason: `not found on PATH=${pathVariable(host)}` });
  } else {
    const probe = await host.probe(onPath, []);
    const candidate: Candidate = { command: onPath, args: [], source: "path" };
    attempts.push({ what: `\`promptls\` on PATH (${onPath})`, ok: probe.ok, reason: probe.ok ? undefined : probe.reason, candidate });
    if (probe.ok) {
      return { ok: true, candidate, attempts };
    }
  }

  // python3 on PATH: a server installed there works; a 3.12+ without one is a base for the managed env.
  for (const name of host.platform === "win32" ? ["python"] : ["python3", "python3.13", "python3.12"]) {
    const found = await findOnPath(name, host);
    if (found === undefined || found === selected) {
      continue;
    }
    const tried = await tryInterpreter(found, `\`${name}\` on PATH (${found})`, host);
    if (tried.attempt.ok && tried.attempt.candidate) {
      attempts.push(tried.attempt);
      return { ok: true, candidate: tried.attempt.candidate, attempts };
    }
    if (name === "python3" || name === "python" || tried.base !== undefined) {
      attempts.push(tried.attempt);
    }
    base ??= tried.base;
  }

  const managed = await host.managed(base);
  if (managed.ok && managed.command) {
    const candidate: Candidate = { command: managed.command, args: [], source: "managed" };
    attempts.push({ what: "the managed environment", ok: true, candidate });
    return { ok: true, candidate, attempts };
  }
  attempts.push({ what: "the managed environment", ok: false, reason: managed.reason ?? "it could not be created" });
  return { ok: false, attempts, message: notFoundMessage(attempts, host, false), explicit: false };
}

/** The one message shown when no server works: every candidate tried, why it failed, how to fix it. */
export function notFoundMessage(attempts: Attempt[], host: Pick<LaunchHost, "platform">, explicit: boolean): string {
  const tried = attempts.map((a) => `${a.what}: ${a.ok ? "works" : a.reason}`).join("; ");
  if (explicit) {
    return `promptls: the server at promptls.server.path did not run (${tried}). Fix the path, or clear the setting to let promptls find or set up a server.`;
  }
  const pip = host.platform === "win32" ? "py -m pip install promptls" : "python3 -m pip install promptls";
  return (
    `promptls: no language server could be started. Tried ${tried}. ` +
    `Set promptls.server.python to a Python 3.12+ with promptls installed (${pip}), or promptls.server.path to a promptls executable.`
  );
}

/** Real file check used outside tests. */
export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform !== "win32") {
      await fs.access(file, fsConstants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started or ran out of time. */
  failure?: string;
}

/** Runs a command to completion (never through a shell), with a timeout; never throws. */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  return new Promise((resolve) => {
    try {
      execFile(
        command,
        args,
        { timeout: timeoutMs, env: options.env ?? process.env, cwd: options.cwd, windowsHide: true, maxBuffer: 4 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
          let failure: string | undefined;
          if (err?.code === "ENOENT") {
            failure = "not found";
          } else if (err?.code === "EACCES") {
            failure = "not executable";
          } else if (err?.killed) {
            failure = `timed out after ${Math.round(timeoutMs / 1000)} s`;
          }
          resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr), failure });
        },
      );
    } catch (e) {
      resolve({ code: null, stdout: "", stderr: "", failure: String(e) });
    }
  });
}

/** The last meaningful line of a failed command's output, for a one-line reason. */
export function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const line = lines.at(-1) ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

export function failureReason(result: RunResult): string {
  if (result.failure) {
    return result.failure;
  }
  const detail = lastLine(result.stderr) || lastLine(result.stdout);
  return `exited with code ${result.code ?? "?"}${detail ? `: ${detail}` : ""}`;
}

/** Real probe used outside tests: `<command> <args> --version` must exit 0 within the timeout. */
export async function probeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = PROBE_TIMEOUT_MS, cwd?: string): Promise<Probe> {
  const result = await runCommand(command, [...args, ...PROBE_ARGS], { env, timeoutMs, cwd });
  return result.code === 0 && !result.failure ? { ok: true, detail: lastLine(result.stdout) } : { ok: false, reason: failureReason(result) };
}

/** Real interpreter inspection used outside tests. */
export async function inspectPython(python: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<Inspection> {
  const result = await runCommand(python, INSPECT_ARGS, { env, cwd, timeoutMs: PROBE_TIMEOUT_MS });
  if (result.code !== 0 || result.failure) {
    return { ok: false, reason: failureReason(result) };
  }
  try {
    const info = JSON.parse(lastLine(result.stdout)) as PythonInfo;
    return typeof info.version === "string" ? { ok: true, info } : { ok: false, reason: "it did not report a version" };
  } catch {
    return { ok: false, reason: `unexpected answer: ${lastLine(result.stdout)}` };
  }
}
