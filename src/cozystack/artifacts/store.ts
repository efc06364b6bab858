/**
 * Reading and checking vendored artifacts. Every read verifies the SHA-256 against its
 * pin (release assets) or the lock file (charts); a mismatch is an error, never a warning.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir, referencePath, repoRoot } from "../../paths.js";
import type { ChartPin, FilePin } from "./pins.js";

export class VendorError extends Error {
  override readonly name = "VendorError";
}

export const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

/** Where `npm run vendor` puts artifacts (git-ignored). */
export const defaultVendorDir = (): string => join(cacheDir, "vendor");

/** shared/reference/vendor, when the workspace has it. */
export function referenceVendorDir(): string | undefined {
  try {
    return referencePath("vendor");
  } catch {
    return undefined;
  }
}

/** Throws VendorError unless `data` has the expected sum; the message names both sums and the source. */
export function verifySha256(data: Buffer, expected: string, what: string): void {
  const actual = sha256(data);
  if (actual !== expected) {
    throw new VendorError(`${what}: sha256 ${actual} does not match the pinned ${expected}; refusing to use it`);
  }
}

/** The lock file of chart sums, committed next to this module's source (also when run compiled from build/). */
export const chartLockPath = (): string => join(repoRoot, "src", "cozystack", "artifacts", "charts.lock.json");

/** `charts/<name>-<version>.tgz` → sha256, as recorded by the vendor step. */
export function readChartLock(path = chartLockPath()): Record<string, string> {
  if (!existsSync(path)) return {};
  const lock = JSON.parse(readFileSync(path, "utf8")) as { charts?: Record<string, string> };
  return { ...lock.charts };
}

/**
 * A pinned release asset: from the vendor dir, else from shared/reference/vendor; verified
 * either way. Throws VendorError when it is in neither place or its sum is wrong.
 */
export function readPinnedFile(pin: FilePin, vendorDir = defaultVendorDir()): Buffer {
  const candidates = [join(vendorDir, pin.path)];
  const reference = referenceVendorDir();
  if (reference) candidates.push(join(reference, pin.path));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new VendorError(`${pin.path} is not vendored (looked in ${candidates.join(", ")}); run \`npm run vendor\` on a machine with internet`);
  }
  const data = readFileSync(found);
  verifySha256(data, pin.sha256, found);
  return data;
}

/**
 * A vendored chart archive, verified against the lock, or undefined when it was never
 * pulled. Throws VendorError when it is there but unrecorded or its sum is wrong.
 */
export function readVendoredChart(pin: ChartPin, vendorDir = defaultVendorDir(), lock = readChartLock()): Buffer | undefined {
  const file = join(vendorDir, pin.path);
  if (!existsSync(file)) return undefined;
  const expected = lock[pin.path];
  if (!expected) {
    throw new VendorError(`${file}: no sha256 recorded for ${pin.path} in ${chartLockPath()}; run \`npm run vendor\` to pull and record it`);
  }
  const data = readFileSync(file);
  verifySha256(data, expected, file);
  return data;
}
