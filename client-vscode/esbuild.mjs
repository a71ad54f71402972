// Bundles the extension into one CommonJS file (only `vscode` stays external), or with --tests the
// unit tests into dist-test/ for `node --test`.
import * as esbuild from "esbuild";
import { readdirSync, rmSync } from "node:fs";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");
const common = { bundle: true, format: "cjs", platform: "node", target: "node20", logLevel: "warning" };

if (tests) {
  rmSync("dist-test", { recursive: true, force: true });
  await esbuild.build({
    ...common,
    entryPoints: readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`),
    outdir: "dist-test",
    external: ["vscode"],
  });
} else {
  await esbuild.build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    external: ["vscode"],
    sourcemap: !production,
    minify: production,
  });
}
