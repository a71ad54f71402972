/**
 * Finds the promptls server command. Pure apart from the injected file and process probes, so the
 * order of preference and the error text are unit-tested without VS Code.
 */
import { execFile } from "node:child_process";
import { constants as fsConstants, promises as fs } from "node:fs";
import * as path from "node:path";

export type CandidateSource = "setting" | "path" | "python";

export interface Candidate {
  /** Executable to spawn. */
  command: string;
  /** Arguments that come before the subcommand (`serve`), e.g. `["-m", "promptls"]`. */
  args: string[];
  source: CandidateSource;
}

export interface LaunchSettings {
  /** `promptls.server.path`; empty when unset. */
  serverPath: string;
  /** `promptls.server.python`; empty when unset. */
  python: string;
}

export interface LaunchHost {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** True when `file` exists and may be executed. */
  isExecutable(file: string): Promise<boolean>;
  /** True when `command ...args --version` exits 0 in time. */
  probe(command: string, args: string[]): Promise<boolean>;
  /** The Python extension's active interpreter, if that extension is installed. */
  activePython(): Promise<string | undefined>;
}

export interface Attempt {
  candidate: Candidate;
  ok: boolean;
}

export type Resolution =
  | { ok: true; candidate: Candidate; attempts: Attempt[] }
  | { ok: false; attempts: Attempt[]; message: string };

export const PROBE_ARGS = ["--version"];
export const PROBE_TIMEOUT_MS = 15_000;

/** Executable names to try for `name` in one PATH directory (PATHEXT on Windows). */
export function executableNames(name: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform !== "win32") {
    return [name];
  }
  const exts = (env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e.length > 0);
  return [name, ...exts.map((e) => name + e.toLowerCase()), ...exts.map((e) => name + e.toUpperCase())];
}

/** First executable called `name` on PATH, searched the way a shell would. */
export async function findOnPath(name: string, host: Pick<LaunchHost, "platform" | "env" | "isExecutable">): Promise<string | undefined> {
  const win = host.platform === "win32";
  const pathVar = win ? (host.env.Path ?? host.env.PATH ?? "") : (host.env.PATH ?? "");
  const join = win ? path.win32.join : path.posix.join;
  const isAbsolute = win ? path.win32.isAbsolute : path.posix.isAbsolute;
  for (const dir of pathVar.split(win ? ";" : ":")) {
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

/** Candidates in order of preference; an explicit setting is the only candidate when set. */
export async function candidates(settings: LaunchSettings, host: LaunchHost): Promise<Candidate[]> {
  const serverPath = settings.serverPath.trim();
  if (serverPath.length > 0) {
    return [{ command: serverPath, args: [], source: "setting" }];
  }
  const out: Candidate[] = [];
  const onPath = await findOnPath("promptls", host);
  if (onPath !== undefined) {
    out.push({ command: onPath, args: [], source: "path" });
  }
  const python =
    settings.python.trim() ||
    (await host.activePython())?.trim() ||
    (host.platform === "win32" ? "python" : "python3");
  out.push({ command: python, args: ["-m", "promptls"], source: "python" });
  return out;
}

/** The first candidate whose probe succeeds, or the install advice when none does. */
export async function resolveServer(settings: LaunchSettings, host: LaunchHost): Promise<Resolution> {
  const attempts: Attempt[] = [];
  for (const candidate of await candidates(settings, host)) {
    const ok = await host.probe(candidate.command, candidate.args);
    attempts.push({ candidate, ok });
    if (ok) {
      return { ok: true, candidate, attempts };
    }
  }
  return { ok: false, attempts, message: notFoundMessage(attempts) };
}

export function describe(candidate: Candidate): string {
  return [candidate.command, ...candidate.args].join(" ");
}

/** The one notification shown when no server works: what was tried and how to fix it. */
export function notFoundMessage(attempts: Attempt[]): string {
  const fromSetting = attempts.find((a) => a.candidate.source === "setting");
  if (fromSetting !== undefined) {
    return (
      `promptls: the server at promptls.server.path (${fromSetting.candidate.command}) did not run. ` +
      "Fix the path, or clear the setting to use `promptls` from PATH."
    );
  }
  const tried = attempts.map((a) => `\`${describe(a.candidate)}\``).join(", ");
  return (
    `promptls: language server not found (tried ${tried}). ` +
    "Install it with `pip install promptls`, or set promptls.server.path to the promptls executable."
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

/** Real probe used outside tests: runs `<command> <args> --version` with a timeout. */
export function probeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      execFile(command, [...args, ...PROBE_ARGS], { timeout: timeoutMs, env, windowsHide: true }, (error) => resolve(error === null));
    } catch {
      resolve(false);
    }
  });
}
