import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  findOnPath,
  inspectPython,
  isExecutableFile,
  type LaunchHost,
  type ManagedResult,
  type PythonInfo,
  probeCommand,
  resolveServer,
} from "../src/launcher";

/** A fake machine: which files are executables, which commands answer `--version`, which Pythons exist. */
function host(opts: {
  files?: string[];
  working?: string[];
  pythons?: Record<string, PythonInfo>;
  path?: string;
  platform?: NodeJS.Platform;
  activePython?: string;
  env?: NodeJS.ProcessEnv;
  managed?: ManagedResult;
}): LaunchHost & { probed: string[]; managedBase: (string | undefined)[] } {
  const files = new Set(opts.files ?? []);
  const working = new Set(opts.working ?? []);
  const probed: string[] = [];
  const managedBase: (string | undefined)[] = [];
  return {
    platform: opts.platform ?? "linux",
    env: { PATH: opts.path ?? "/usr/local/bin:/usr/bin", ...opts.env },
    isExecutable: async (f) => files.has(f) || f in (opts.pythons ?? {}),
    probe: async (command, args) => {
      const line = [command, ...args].join(" ");
      probed.push(line);
      return working.has(line) ? { ok: true } : { ok: false, reason: "exited with code 1: boom" };
    },
    inspectPython: async (python) => {
      probed.push(`inspect ${python}`);
      const info = opts.pythons?.[python];
      return info ? { ok: true, info } : { ok: false, reason: "not found" };
    },
    activePython: async () => opts.activePython,
    managed: async (base) => {
      managedBase.push(base);
      return opts.managed ?? { ok: false, reason: "uv could not install promptls 0.1.0: no network" };
    },
    probed,
    managedBase,
  };
}

const NO_SETTINGS = { serverPath: "", python: "" };
const PY311: PythonInfo = { version: "3.11.2", error: "ModuleNotFoundError: No module named 'promptls'" };
const PY312_BARE: PythonInfo = { version: "3.12.1", error: "ModuleNotFoundError: No module named 'promptls'" };
const PY312_WITH: PythonInfo = { version: "3.12.1", promptls: "0.1.0" };

test("promptls.server.path wins and is the only candidate", async () => {
  const h = host({ files: ["/usr/bin/promptls"], working: ["/opt/promptls/bin/promptls", "/usr/bin/promptls"] });
  const r = await resolveServer({ serverPath: "/opt/promptls/bin/promptls", python: "" }, h);
  assert.deepEqual(r.ok && r.candidate, { command: "/opt/promptls/bin/promptls", args: [], source: "setting" });
  assert.deepEqual(h.probed, ["/opt/promptls/bin/promptls"]);
});

test("a broken promptls.server.path says so (and why) instead of silently using something else", async () => {
  const h = host({ files: ["/usr/bin/promptls"], working: ["/usr/bin/promptls"] });
  const r = await resolveServer({ serverPath: "/nope/promptls", python: "" }, h);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : "", /promptls\.server\.path \(\/nope\/promptls\): exited with code 1: boom/);
  assert.equal(!r.ok && r.explicit, true);
  assert.deepEqual(h.managedBase, []);
});

test("the selected interpreter with promptls comes first, run with -P so the folder is not on sys.path", async () => {
  const h = host({ activePython: "/w/.venv/bin/python", pythons: { "/w/.venv/bin/python": PY312_WITH }, files: ["/usr/bin/promptls"], working: ["/usr/bin/promptls"] });
  const r = await resolveServer(NO_SETTINGS, h);
  assert.deepEqual(r.ok && r.candidate, { command: "/w/.venv/bin/python", args: ["-P", "-m", "promptls"], source: "interpreter" });
});

test("promptls.server.python beats the Python extension's interpreter", async () => {
  const h = host({ activePython: "/ext/python", pythons: { "/ext/python": PY312_WITH, "/set/python": PY312_WITH } });
  const r = await resolveServer({ serverPath: "", python: "/set/python" }, h);
  assert.equal(r.ok && r.candidate.command, "/set/python");
  assert.ok(!h.probed.includes("inspect /ext/python"));
});

test("an interpreter without promptls falls through to promptls on PATH", async () => {
  const h = host({ activePython: "/w/py", pythons: { "/w/py": PY312_BARE }, files: ["/usr/bin/promptls"], working: ["/usr/bin/promptls"] });
  const r = await resolveServer(NO_SETTINGS, h);
  assert.deepEqual(r.ok && r.candidate, { command: "/usr/bin/promptls", args: [], source: "path" });
});

test("with nothing installed the managed environment is used, built on a 3.12+ found on the machine", async () => {
  const h = host({
    path: "/usr/bin:/opt/py/bin",
    pythons: { "/usr/bin/python3": PY311, "/opt/py/bin/python3.12": PY312_BARE },
    managed: { ok: true, command: "/store/env-0.1.0/bin/promptls" },
  });
  const r = await resolveServer(NO_SETTINGS, h);
  assert.deepEqual(r.ok && r.candidate, { command: "/store/env-0.1.0/bin/promptls", args: [], source: "managed" });
  assert.deepEqual(h.managedBase, ["/opt/py/bin/python3.12"]);
});

test("the selected interpreter is the managed environment's base when it is 3.12+", async () => {
  const h = host({ activePython: "/w/py", pythons: { "/w/py": PY312_BARE, "/usr/bin/python3": PY311 }, managed: { ok: true, command: "/e/promptls" } });
  await resolveServer(NO_SETTINGS, h);
  assert.deepEqual(h.managedBase, ["/w/py"]);
});

test("nothing works: one message naming every candidate, why it failed and which PATH was searched", async () => {
  const h = host({ path: "/usr/local/bin:/usr/bin", pythons: { "/usr/bin/python3": PY311 } });
  const r = await resolveServer(NO_SETTINGS, h);
  assert.equal(r.ok, false);
  const message = !r.ok ? r.message : "";
  assert.match(message, /no language server could be started/);
  assert.match(message, /a selected interpreter: none/);
  assert.match(message, /`promptls` on PATH: not found on PATH=\/usr\/local\/bin:\/usr\/bin/);
  assert.match(message, /`python3` on PATH \(\/usr\/bin\/python3\): it is Python 3\.11\.2; promptls needs 3\.12\+/);
  assert.match(message, /the managed environment: uv could not install promptls 0\.1\.0: no network/);
  assert.match(message, /promptls\.server\.python/);
  assert.match(message, /promptls\.server\.path/);
  assert.deepEqual(h.managedBase, [undefined]);
});

test("an interpreter whose promptls fails to import says so", async () => {
  const broken: PythonInfo = { version: "3.12.1", error: "ImportError: cannot import name 'x' from 'yaml'" };
  const r = await resolveServer({ serverPath: "", python: "/p" }, host({ pythons: { "/p": broken } }));
  assert.match(!r.ok ? r.message : "", /promptls\.server\.python \(\/p\): Python 3\.12\.1: importing promptls failed \(ImportError: cannot import name 'x' from 'yaml'\)/);
});

test("the first PATH entry holding promptls is used", async () => {
  const h = host({ path: "/a:/b:/c", files: ["/c/promptls", "/b/promptls"] });
  assert.equal(await findOnPath("promptls", h), "/b/promptls");
});

test("relative and empty PATH entries are skipped (a cloned repo cannot plant ./promptls)", async () => {
  const h = host({ path: ".::bin:/usr/bin", files: ["promptls", "bin/promptls", "/usr/bin/promptls"] });
  assert.equal(await findOnPath("promptls", h), "/usr/bin/promptls");
});

test("Windows: PATH uses ; and executables are found through PATHEXT", async () => {
  const h = host({
    platform: "win32",
    path: "C:\\Tools;C:\\Python312\\Scripts",
    env: { PATHEXT: ".COM;.EXE;.BAT" },
    files: ["C:\\Python312\\Scripts\\promptls.exe"],
    working: ["C:\\Python312\\Scripts\\promptls.exe"],
  });
  assert.equal(await findOnPath("promptls", h), "C:\\Python312\\Scripts\\promptls.exe");
  const r = await resolveServer(NO_SETTINGS, h);
  assert.equal(r.ok && r.candidate.command, "C:\\Python312\\Scripts\\promptls.exe");
});

test("the real probe runs <cmd> --version and needs exit 0 within the timeout, and says why not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "promptls-launcher-"));
  const good = join(dir, "good");
  const bad = join(dir, "bad");
  const slow = join(dir, "slow");
  writeFileSync(good, '#!/bin/sh\n[ "$1" = "--version" ] && echo "promptls 0.1.0" && exit 0\nexit 3\n');
  writeFileSync(bad, "#!/bin/sh\necho 'ModuleNotFoundError: yaml' >&2\nexit 1\n");
  writeFileSync(slow, "#!/bin/sh\nsleep 5\n");
  writeFileSync(join(dir, "plain.txt"), "not executable");
  for (const f of [good, bad, slow]) {
    chmodSync(f, 0o755);
  }
  assert.deepEqual(await probeCommand(good, []), { ok: true, detail: "promptls 0.1.0" });
  assert.deepEqual(await probeCommand(bad, []), { ok: false, reason: "exited with code 1: ModuleNotFoundError: yaml" });
  assert.deepEqual(await probeCommand(join(dir, "missing"), []), { ok: false, reason: "not found" });
  const started = Date.now();
  assert.deepEqual(await probeCommand(slow, [], process.env, 300), { ok: false, reason: "timed out after 0 s" });
  assert.ok(Date.now() - started < 3000, "the probe must give up at its timeout");
  assert.equal(await isExecutableFile(good), true);
  assert.equal(await isExecutableFile(join(dir, "plain.txt")), false);
  assert.equal(await isExecutableFile(dir), false);
});

test("inspecting a real interpreter reports its version and that promptls is missing, without importing from the cwd", async () => {
  const dir = mkdtempSync(join(tmpdir(), "promptls-inspect-"));
  // A planted package in the working directory must not count as an installed promptls.
  writeFileSync(join(dir, "promptls.py"), "raise SystemExit('imported from the checkout')\n");
  const python = process.env.PROMPTLS_TEST_PYTHON ?? "python3";
  const r = await inspectPython(python, process.env, dir);
  assert.equal(r.ok, true, JSON.stringify(r));
  if (r.ok) {
    assert.match(r.info.version, /^3\.\d+\.\d+$/);
    assert.notEqual(r.info.error, undefined, "promptls.py in the cwd must not be found");
  }
  assert.deepEqual(await inspectPython(join(dir, "no-python"), process.env, dir), { ok: false, reason: "not found" });
});
