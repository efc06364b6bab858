/**
 * Whole or nothing on disk: a file is written to a temp file beside it and renamed over the
 * target; a folder is staged beside its target and swapped in. A reader never sees half a
 * file or a folder with half its files, and a failed write leaves the old one in place.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface AtomicWriteOptions {
  /** File mode of the result, e.g. 0o600 for a kubeconfig, 0o755 for a binary. @default 0o666 less the umask */
  readonly mode?: number;
}

/** Beside the target, so the rename stays on one file system; unique per process and call. */
const tempPath = (path: string): string => `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;

/** Writes `data` to `path` whole or not at all (parent folders created). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPath(path);
  try {
    await writeFile(temp, data, options.mode === undefined ? {} : { mode: options.mode });
    // writeFile's mode passes through the umask; the caller asked for this one
    if (options.mode !== undefined) await chmod(temp, options.mode);
    await rename(temp, path);
  } catch (cause) {
    await rm(temp, { force: true });
    throw new Error(`cannot write ${path}`, { cause });
  }
}

/** `writeFileAtomic` for the places that cannot await (start-up paths, tool extraction). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPath(path);
  try {
    writeFileSync(temp, data, options.mode === undefined ? {} : { mode: options.mode });
    if (options.mode !== undefined) chmodSync(temp, options.mode);
    renameSync(temp, path);
  } catch (cause) {
    rmSync(temp, { force: true });
    throw new Error(`cannot write ${path}`, { cause });
  }
}

/**
 * Puts the folder `staged` (complete, on the same file system) in the place of `target`:
 * the old folder is moved aside, the new one renamed in, the old one removed. If the swap
 * fails, the old folder is put back.
 */
export function replaceFolderSync(staged: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  const old = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.old`;
  let movedAside = false;
  try {
    try {
      renameSync(target, old);
      movedAside = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    renameSync(staged, target);
  } catch (cause) {
    if (movedAside) renameSync(old, target);
    throw new Error(`cannot put ${staged} in place of ${target}`, { cause });
  }
  rmSync(old, { recursive: true, force: true });
}
