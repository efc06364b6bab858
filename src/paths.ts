/**
 * Where things live on disk. Resolved from the repository root (never the working
 * directory), so every command behaves the same wherever it is started from.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root: the nearest folder above this module that holds package.json. The
 * same from the TypeScript sources (src/paths.ts) and the compiled copy (build/src/paths.js).
 */
export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`package.json not found in ${from} or any folder above it`);
  }
}

/** Local cache for tools, built binaries and fetched reference data (git-ignored). */
export const cacheDir = join(repoRoot, ".cache");

/**
 * The `shared` folder beside the repository: data the project reads but does not own.
 * Users who cloned the project alone fill `.cache/shared` with `npm run fetch-reference`.
 */
export function sharedDir(): string {
  const beside = resolve(repoRoot, "..", "shared");
  if (existsSync(join(beside, "reference"))) return beside;
  const cached = join(cacheDir, "shared");
  if (existsSync(join(cached, "reference"))) return cached;
  throw new Error(
    `reference data not found: looked for ${join(beside, "reference")} and ${join(cached, "reference")}; ` +
      "clone the project beside its shared/ folder or run `npm run fetch-reference`",
  );
}

/** A path inside `shared/reference/`. */
export function referencePath(...parts: string[]): string {
  return join(sharedDir(), "reference", ...parts);
}
