/**
 * The environment the extension makes itself when no promptls is installed: one virtual environment
 * per pinned promptls version under the extension's global storage, created once with uv (bundled in
 * the platform-specific .vsix, as ruff-vscode bundles ruff) and reused by every window.
 *
 * - `env-<version>/` holds the venv; `env-<version>/promptls-ready.json` is written last, so a half
 *   made environment (window closed mid-install) is recognised and made again.
 * - An extension update that pins the same version keeps the environment (global storage survives
 *   updates); one that pins a new version makes a new one and removes the old once the new one works.
 * - Two windows starting at once: the first takes `env-<version>.lock`, the second waits for it.
 * - uv reads its own settings from the environment (UV_INDEX_URL, UV_FIND_LINKS, UV_OFFLINE…), so a
 *   mirror or an offline wheelhouse works without settings of ours.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";

import { failureReason, lastLine, type ManagedResult, MIN_PYTHON, probeCommand, type RunResult } from "./launcher";

export const READY_FILE = "promptls-ready.json";
export const INSTALL_TIMEOUT_MS = 10 * 60_000;
export const LOCK_STALE_MS = 15 * 60_000;

export interface ManagedEnvHost {
  /** Folder for the environments (the extension's global storage). */
  storageDir: string;
  /** The promptls version this extension pins. */
  version: string;
  platform: NodeJS.Platform;
  /** The uv executable (bundled or on PATH); undefined when there is none. */
  uv: string | undefined;
  /** Why there is no uv, for the message. */
  uvMissing?: string;
  run(command: string, args: string[], timeoutMs: number): Promise<RunResult>;
  /** Shown in the progress notification (only while something is being made). */
  progress(message: string): void;
  /** Wraps the creation in a progress notification; reuse of a ready environment shows none. */
  withProgress<T>(task: () => Promise<T>): Promise<T>;
  log(line: string): void;
}

export interface ReadyMarker {
  version: string;
  python: string;
  uv: string;
  createdAt: string;
}

export function envDir(storageDir: string, version: string): string {
  return path.join(storageDir, `env-${version}`);
}

export function envExecutable(dir: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? path.join(dir, "Scripts", "promptls.exe") : path.join(dir, "bin", "promptls");
}

function envPython(dir: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? path.join(dir, "Scripts", "python.exe") : path.join(dir, "bin", "python");
}

async function readMarker(dir: string): Promise<ReadyMarker | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, READY_FILE), "utf8")) as ReadyMarker;
  } catch {
    return undefined;
  }
}

/** Takes `lock` (a directory: mkdir is atomic), waiting while another window holds it; stale locks are taken over. */
async function acquireLock(lock: string, host: ManagedEnvHost): Promise<() => Promise<void>> {
  const release = () => fs.rm(lock, { recursive: true, force: true });
  for (let waited = 0; ; waited += 500) {
    try {
      await fs.mkdir(lock);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw err;
      }
    }
    const stat = await fs.stat(lock).catch(() => undefined);
    if (stat !== undefined && Date.now() - stat.mtimeMs > LOCK_STALE_MS) {
      host.log(`taking over the stale lock ${lock}`);
      await release();
      continue;
    }
    if (waited === 0) {
      host.progress("waiting for another window that is setting up the server…");
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Removes environments of other pinned versions once the current one works. */
async function removeOldEnvs(host: ManagedEnvHost, keep: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await fs.readdir(host.storageDir);
  } catch {
    return;
  }
  for (const name of names) {
    const full = path.join(host.storageDir, name);
    if (name.startsWith("env-") && !name.endsWith(".lock") && full !== keep) {
      host.log(`removing the environment of an earlier version: ${full}`);
      await fs.rm(full, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function usable(dir: string, host: ManagedEnvHost): Promise<boolean> {
  const marker = await readMarker(dir);
  if (marker?.version !== host.version) {
    return false;
  }
  const probe = await probeCommand(envExecutable(dir, host.platform), []);
  if (!probe.ok) {
    host.log(`the managed environment ${dir} no longer runs (${probe.reason}); making it again`);
  }
  return probe.ok;
}

/** The managed environment's promptls, made first when needed. `basePython` is a 3.12+ found on the machine. */
export async function ensureManagedEnv(host: ManagedEnvHost, basePython: string | undefined): Promise<ManagedResult> {
  const dir = envDir(host.storageDir, host.version);
  const command = envExecutable(dir, host.platform);
  if (await usable(dir, host)) {
    return { ok: true, command };
  }
  if (host.uv === undefined) {
    return { ok: false, reason: host.uvMissing ?? "no uv to create it with" };
  }
  const uv = host.uv;
  await fs.mkdir(host.storageDir, { recursive: true });
  return host.withProgress(async () => {
    const release = await acquireLock(`${dir}.lock`, host);
    try {
      if (await usable(dir, host)) {
        return { ok: true, command }; // another window made it while we waited
      }
      await fs.rm(dir, { recursive: true, force: true });
      const python = basePython ?? `>=${MIN_PYTHON.join(".")}`;
      host.progress(`creating an environment (Python ${basePython ? basePython : python})…`);
      const venv = await step(host, uv, ["venv", "--no-project", "--no-config", "--python", python, "--", dir]);
      if (venv !== undefined) {
        return { ok: false, reason: `uv could not create it with Python ${python}: ${venv}` };
      }
      host.progress(`installing promptls ${host.version}…`);
      const install = await step(host, uv, ["pip", "install", "--no-config", "--python", envPython(dir, host.platform), `promptls==${host.version}`]);
      if (install !== undefined) {
        return { ok: false, reason: `uv could not install promptls ${host.version}: ${install}` };
      }
      const probe = await probeCommand(command, []);
      if (!probe.ok) {
        return { ok: false, reason: `${command} --version failed after installing: ${probe.reason}` };
      }
      const marker: ReadyMarker = { version: host.version, python, uv, createdAt: new Date().toISOString() };
      await fs.writeFile(path.join(dir, READY_FILE), JSON.stringify(marker, null, 2));
      host.log(`managed environment ready: ${dir} (${probe.detail ?? "promptls"})`);
      await removeOldEnvs(host, dir);
      return { ok: true, command };
    } catch (err) {
      return { ok: false, reason: String(err) };
    } finally {
      await release();
    }
  });
}

/** Runs one uv step, logging its output; undefined on success, else a one-line reason. */
async function step(host: ManagedEnvHost, uv: string, args: string[]): Promise<string | undefined> {
  host.log(`running ${uv} ${args.join(" ")}`);
  const result = await host.run(uv, args, INSTALL_TIMEOUT_MS);
  for (const line of `${result.stdout}\n${result.stderr}`.split(/\r?\n/)) {
    if (line.trim()) {
      host.log(`  ${line}`);
    }
  }
  if (result.code === 0 && !result.failure) {
    return undefined;
  }
  // uv's error block ends in hints; the line starting with "error:" or "×" says what went wrong.
  const lines = result.stderr.split(/\r?\n/).map((l) => l.trim());
  const error = lines.find((l) => /^(error:|×)/.test(l));
  const cause = lines.filter((l) => /^╰─▶|^Caused by:|^\s*because/.test(l)).at(-1);
  return [error, cause].filter(Boolean).join(" ").replace(/^(error:|×)\s*/, "") || failureReason(result) || lastLine(result.stderr);
}
