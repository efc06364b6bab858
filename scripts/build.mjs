/**
 * The compiled CLI in build/ (tsconfig.build.json: plain ESM, same layout as the repository).
 * Plain JavaScript because it must run before anything is compiled.
 *
 * - `node scripts/build.mjs` (`npm run build`, and `prepare`, which `npm ci` runs): compiles.
 * - `node --import ./scripts/build.mjs build/scripts/<x>.js` (every CLI entry in package.json):
 *   compiles first only when a source is newer than the last build, so an edited tree never
 *   runs stale JavaScript; otherwise it costs a few milliseconds of stat calls.
 *
 * A build goes to a fresh folder that then replaces build/ whole, so files of deleted sources
 * do not linger and a process that is starting never sees a half-written tree.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const buildDir = join(root, "build");
/** Written into build/ after a successful compile: when that compile started (ms since the epoch). */
const stampFile = join(buildDir, ".built-at");
/** Tests that vitest runs from the sources; they are not compiled, so their edits need no build. */
const notCompiled = new Set(["unit", "integration", "e2e", "golden"].map((d) => join(root, "src", "tests", d)));

/** The newest modification among the compiled inputs: .ts files and their folders (a folder changes when a file is added, renamed or removed). */
function newestSource() {
  let newest = { path: "", mtimeMs: 0 };
  const consider = (path) => {
    const mtimeMs = statSync(path).mtimeMs;
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  };
  const walk = (dir) => {
    consider(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!notCompiled.has(path)) walk(path);
      } else if (entry.name.endsWith(".ts")) {
        consider(path);
      }
    }
  };
  walk(join(root, "src"));
  walk(join(root, "scripts"));
  for (const file of ["tsconfig.json", "tsconfig.build.json"]) consider(join(root, file));
  return newest;
}

/** Why build/ needs compiling, or undefined when it is up to date. */
function staleReason() {
  if (!existsSync(stampFile)) return "build/ is missing";
  const builtAt = Number(readFileSync(stampFile, "utf8"));
  const newest = newestSource();
  return newest.mtimeMs > builtAt ? `${relative(root, newest.path)} changed after the last build` : undefined;
}

/** Compiles into a fresh folder and swaps it in; exits the process on a compile error. */
function build() {
  const startedAt = Date.now();
  const fresh = `${buildDir}.${process.pid}.tmp`;
  const old = `${buildDir}.${process.pid}.old`;
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  // tsc prints its errors on stdout; they go to stderr so a command's own stdout stays clean.
  const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", fresh], { stdio: ["ignore", 2, 2] });
  if (result.status !== 0) {
    rmSync(fresh, { recursive: true, force: true });
    process.stderr.write(`build: tsc failed (exit ${result.status ?? result.signal}); build/ left as it was\n`);
    process.exit(1);
  }
  writeFileSync(join(fresh, ".built-at"), String(startedAt));
  try {
    if (existsSync(buildDir)) renameSync(buildDir, old);
    renameSync(fresh, buildDir);
  } catch (error) {
    // Another command compiled at the same time and swapped its tree in first: use that one.
    if (!existsSync(stampFile)) throw error;
  } finally {
    rmSync(fresh, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}

const runDirectly = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (runDirectly) {
  build();
} else {
  const reason = staleReason();
  if (reason) {
    process.stderr.write(`build: ${reason}; compiling (npm run build)\n`);
    build();
  }
}
