// Platform-specific .vsix with uv bundled (as ruff-vscode ships ruff per platform):
//   npm run package:target -- linux-x64      (default: this machine's platform-arch)
// The universal `npm run package` has no uv and uses one from PATH, if any, for the managed environment.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

const target = process.argv[2] ?? `${process.platform}-${process.arch}`;
const python = process.env.PYTHON ?? (process.platform === "win32" ? "python" : "python3");
execFileSync(python, ["scripts/bundle_uv.py", target], { stdio: "inherit" });
try {
  execFileSync("npm", ["run", "--silent", "package", "--", "--target", target, "-o", `promptls-${target}.vsix`], { stdio: "inherit" });
} finally {
  rmSync("bundled", { recursive: true, force: true });
}
