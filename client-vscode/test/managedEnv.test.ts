import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { runCommand } from "../src/launcher";
import { envDir, ensureManagedEnv, type ManagedEnvHost, READY_FILE } from "../src/managedEnv";

/** A stand-in for uv: `venv ... -- DIR` makes DIR/bin/{python,promptls}; `pip install` logs; FAIL_AT fails a step. */
const FAKE_UV = `#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls.log"
if [ "$1" = "venv" ] && [ "$FAKE_UV_FAIL" = "venv" ]; then
  echo "error: No interpreter found for Python >=3.12 in virtual environments, managed installations, or search path" >&2; exit 2
fi
if [ "$1" = "venv" ]; then
  for last; do :; done
  mkdir -p "$last/bin"
  printf '#!/bin/sh\\nexit 0\\n' > "$last/bin/python"; chmod +x "$last/bin/python"
  exit 0
fi
if [ "$1" = "pip" ] && [ "$FAKE_UV_FAIL" = "pip" ]; then
  printf '  × No solution found when resolving dependencies:\\n  ╰─▶ Because promptls was not found in the package registry and you require promptls==0.2.0, we can conclude that your requirements are unsatisfiable.\\n' >&2
  exit 1
fi
if [ "$1" = "pip" ]; then
  py="$5"; bin="$(dirname "$py")"
  printf '#!/bin/sh\\necho "promptls 0.2.0"\\n' > "$bin/promptls"; chmod +x "$bin/promptls"
  exit 0
fi
exit 9
`;

function setup(version = "0.2.0"): { host: ManagedEnvHost & { progressShown: number; messages: string[] }; dir: string; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), "promptls-managed-"));
  const uv = join(dir, "uv");
  writeFileSync(uv, FAKE_UV);
  chmodSync(uv, 0o755);
  const messages: string[] = [];
  const host = {
    storageDir: join(dir, "storage"),
    version,
    platform: process.platform,
    uv,
    run: (command: string, args: string[], timeoutMs: number) => runCommand(command, args, { timeoutMs }),
    progress: (m: string) => messages.push(m),
    withProgress: async <T>(task: () => Promise<T>) => {
      host.progressShown++;
      return task();
    },
    log: () => undefined,
    progressShown: 0,
    messages,
  };
  const calls = () => (existsSync(join(dir, "calls.log")) ? readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n") : []);
  return { host, dir, calls };
}

test("the environment is made once, with progress, and reused after that without uv or progress", async () => {
  const { host, calls } = setup();
  const first = await ensureManagedEnv(host, "/opt/py/bin/python3.12");
  assert.deepEqual(first, { ok: true, command: join(envDir(host.storageDir, "0.2.0"), "bin", "promptls") });
  assert.equal(host.progressShown, 1);
  assert.ok(host.messages.some((m) => m.startsWith("installing promptls 0.2.0")));
  const made = calls();
  assert.match(made[0], /^venv --no-project --no-config --python \/opt\/py\/bin\/python3\.12 -- .*env-0\.2\.0$/);
  assert.match(made[1], /^pip install --no-config --python .*env-0\.2\.0\/bin\/python promptls==0\.2\.0$/);
  const marker = JSON.parse(readFileSync(join(envDir(host.storageDir, "0.2.0"), READY_FILE), "utf8"));
  assert.equal(marker.version, "0.2.0");

  const again = await ensureManagedEnv(host, undefined);
  assert.deepEqual(again, first);
  assert.equal(calls().length, 2, "a ready environment is reused, not made again");
  assert.equal(host.progressShown, 1);
});

test("a half-made environment (no ready marker) is made again", async () => {
  const { host, calls } = setup();
  mkdirSync(join(envDir(host.storageDir, "0.2.0"), "bin"), { recursive: true });
  const r = await ensureManagedEnv(host, undefined);
  assert.equal(r.ok, true);
  assert.match(calls()[0], /--python >=3\.12 /, "without a Python found on the machine uv looks for (or installs) one");
});

test("a new pinned version makes its own environment and removes the old one once it works", async () => {
  const { host, dir } = setup("0.2.0");
  await ensureManagedEnv(host, undefined);
  const old = envDir(host.storageDir, "0.2.0");
  const upgraded = { ...host, version: "0.3.0", progressShown: 0 };
  writeFileSync(join(dir, "uv"), FAKE_UV.replaceAll("0.2.0", "0.3.0"));
  const r = await ensureManagedEnv(upgraded, undefined);
  assert.equal(r.ok, true);
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(envDir(host.storageDir, "0.3.0")), true);
});

test("two windows at once: the second waits for the first and reuses its environment", async () => {
  const { host, calls } = setup();
  const [a, b] = await Promise.all([ensureManagedEnv(host, undefined), ensureManagedEnv(host, undefined)]);
  assert.deepEqual(a, b);
  assert.equal(calls().filter((c) => c.startsWith("venv")).length, 1);
});

test("uv failures become one-line reasons naming the step", async () => {
  const { host } = setup();
  process.env.FAKE_UV_FAIL = "venv";
  try {
    const r = await ensureManagedEnv(host, undefined);
    assert.equal(r.ok, false);
    assert.match(r.reason ?? "", /^uv could not create it with Python >=3\.12: No interpreter found for Python >=3\.12/);
    process.env.FAKE_UV_FAIL = "pip";
    const p = await ensureManagedEnv(host, undefined);
    assert.match(p.reason ?? "", /^uv could not install promptls 0\.2\.0: No solution found when resolving dependencies: ╰─▶ Because promptls was not found/);
  } finally {
    delete process.env.FAKE_UV_FAIL;
  }
});

test("without uv the reason says so", async () => {
  const { host } = setup();
  const r = await ensureManagedEnv({ ...host, uv: undefined, uvMissing: "this linux-riscv64 build bundles no uv and none is on PATH" }, undefined);
  assert.deepEqual(r, { ok: false, reason: "this linux-riscv64 build bundles no uv and none is on PATH" });
});
