import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  candidates,
  findOnPath,
  isExecutableFile,
  type LaunchHost,
  probeCommand,
  resolveServer,
} from "../src/launcher";

/** A fake machine: which files are executables, which commands answer `--version`. */
function host(opts: {
  files?: string[];
  working?: string[];
  path?: string;
  platform?: NodeJS.Platform;
  activePython?: string;
  env?: NodeJS.ProcessEnv;
}): LaunchHost & { probed: string[] } {
  const files = new Set(opts.files ?? []);
  const working = new Set(opts.working ?? []);
  const probed: string[] = [];
  return {
    platform: opts.platform ?? "linux",
    env: { PATH: opts.path ?? "/usr/local/bin:/usr/bin", ...opts.env },
    isExecutable: async (f) => files.has(f),
    probe: async (command, args) => {
      const line = [command, ...args].join(" ");
      probed.push(line);
      return working.has(line);
    },
    activePython: async () => opts.activePython,
    probed,
  };
}

const NO_SETTINGS = { serverPath: "", python: "" };

test("promptls.server.path wins and is the only candidate", async () => {
  const h = host({ files: ["/usr/bin/promptls"], working: ["/opt/promptls/bin/promptls", "/usr/bin/promptls"] });
  const r = await resolveServer({ serverPath: "/opt/promptls/bin/promptls", python: "" }, h);
  assert.equal(r.ok, true);
  assert.deepEqual(r.ok && r.candidate, { command: "/opt/promptls/bin/promptls", args: [], source: "setting" });
  assert.deepEqual(h.probed, ["/opt/promptls/bin/promptls"]);
});

test("a broken promptls.server.path says so instead of silently using PATH", async () => {
  const h = host({ files: ["/usr/bin/promptls"], working: ["/usr/bin/promptls"] });
  const r = await resolveServer({ serverPath: "/nope/promptls", python: "" }, h);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : "", /promptls\.server\.path \(\/nope\/promptls\) did not run/);
});

test("promptls on PATH comes before python -m promptls", async () => {
  const h = host({ files: ["/usr/bin/promptls"], working: ["/usr/bin/promptls", "python3 -m promptls"] });
  const r = await resolveServer(NO_SETTINGS, h);
  assert.deepEqual(r.ok && r.candidate, { command: "/usr/bin/promptls", args: [], source: "path" });
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
  });
  assert.equal(await findOnPath("promptls", h), "C:\\Python312\\Scripts\\promptls.exe");
  const c = await candidates(NO_SETTINGS, h);
  assert.deepEqual(c.map((x) => [x.command, ...x.args].join(" ")), ["C:\\Python312\\Scripts\\promptls.exe", "python -m promptls"]);
});

test("when promptls is not a working executable, python -m promptls is tried", async () => {
  const h = host({ files: ["/usr/bin/promptls"], working: ["python3 -m promptls"] });
  const r = await resolveServer(NO_SETTINGS, h);
  assert.deepEqual(r.ok && r.candidate, { command: "python3", args: ["-m", "promptls"], source: "python" });
  assert.deepEqual(h.probed, ["/usr/bin/promptls", "python3 -m promptls"]);
});

test("promptls.server.python beats the Python extension's interpreter, which beats python3", async () => {
  const ext = host({ activePython: "/home/u/.venv/bin/python" });
  assert.equal((await candidates(NO_SETTINGS, ext)).at(-1)?.command, "/home/u/.venv/bin/python");
  const both = await candidates({ serverPath: "", python: "/usr/bin/python3.12" }, ext);
  assert.equal(both.at(-1)?.command, "/usr/bin/python3.12");
  assert.equal((await candidates(NO_SETTINGS, host({}))).at(-1)?.command, "python3");
});

test("nothing works: one message naming what was tried and how to install", async () => {
  const r = await resolveServer(NO_SETTINGS, host({ files: ["/usr/bin/promptls"] }));
  assert.equal(r.ok, false);
  const message = !r.ok ? r.message : "";
  assert.match(message, /language server not found/);
  assert.match(message, /`\/usr\/bin\/promptls`, `python3 -m promptls`/);
  assert.match(message, /pip install promptls/);
  assert.match(message, /promptls\.server\.path/);
});

test("the real probe runs <cmd> --version and needs exit 0 within the timeout", async () => {
  const dir = mkdtempSync(join(tmpdir(), "promptls-launcher-"));
  const good = join(dir, "good");
  const bad = join(dir, "bad");
  const slow = join(dir, "slow");
  writeFileSync(good, '#!/bin/sh\n[ "$1" = "--version" ] && echo "promptls 0.1.0" && exit 0\nexit 3\n');
  writeFileSync(bad, "#!/bin/sh\nexit 1\n");
  writeFileSync(slow, "#!/bin/sh\nsleep 5\n");
  writeFileSync(join(dir, "plain.txt"), "not executable");
  for (const f of [good, bad, slow]) {
    chmodSync(f, 0o755);
  }
  assert.equal(await probeCommand(good, []), true);
  assert.equal(await probeCommand(bad, []), false);
  assert.equal(await probeCommand(join(dir, "missing"), []), false);
  const started = Date.now();
  assert.equal(await probeCommand(slow, [], process.env, 300), false);
  assert.ok(Date.now() - started < 3000, "the probe must give up at its timeout");
  assert.equal(await isExecutableFile(good), true);
  assert.equal(await isExecutableFile(join(dir, "plain.txt")), false);
  assert.equal(await isExecutableFile(dir), false);
});
