/**
 * All-or-nothing output: everything is written into a staging folder first, then each
 * managed entry is swapped into place with a rename. If any step fails, the entries already
 * swapped are put back and the staging folder is removed, so no partial output remains.
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** File contents by path relative to the entry they belong to. */
export type FileTree = ReadonlyMap<string, string | Buffer>;

export interface OutputPlan {
  /** Folder the entries go into (created when missing). */
  readonly outDir: string;
  /** Whole folders replaced as one (e.g. `tenants` → its files). Stale files in them disappear. */
  readonly folders: ReadonlyMap<string, FileTree>;
  /** Single files inside outDir. */
  readonly files: ReadonlyMap<string, string | Buffer>;
  /** Files elsewhere (absolute paths), e.g. bundles/paas-proxmox.yaml. */
  readonly external: ReadonlyMap<string, string | Buffer>;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writeTree(root: string, tree: FileTree): Promise<void> {
  // the folder exists even with no files in it (a platform without tenants): its swap renames it
  await mkdir(root, { recursive: true });
  for (const [relative, content] of tree) {
    const target = join(root, relative);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

/** Where the parent folders of `path` begin to be missing (to remove them again on failure). */
async function firstMissing(path: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let dir = path; !(await exists(dir)); dir = dirname(dir)) missing = dir;
  return missing;
}

interface Swap {
  readonly target: string;
  /** A folder replaces a folder, a file a file: never one for the other. */
  readonly folder: boolean;
  readonly staged: string;
  readonly backup: string;
  moved?: boolean;
  backedUp?: boolean;
}

async function stage(plan: OutputPlan, staging: string): Promise<Swap[]> {
  const swaps: Swap[] = [];
  const add = (target: string, staged: string, folder: boolean) =>
    swaps.push({ target, staged, folder, backup: join(staging, `.old-${swaps.length}`) });
  for (const [name, tree] of plan.folders) {
    await writeTree(join(staging, name), tree);
    add(join(plan.outDir, name), join(staging, name), true);
  }
  for (const [name, content] of plan.files) {
    await writeFile(join(staging, name), content);
    add(join(plan.outDir, name), join(staging, name), false);
  }
  for (const [path, content] of plan.external) {
    await mkdir(dirname(path), { recursive: true });
    // same folder as the target, so the rename cannot cross file systems
    const staged = join(dirname(path), `.${basename(path)}.synth-${process.pid}-${swaps.length}`);
    await writeFile(staged, content);
    swaps.push({ target: path, staged, folder: false, backup: `${staged}.old` });
  }
  return swaps;
}

async function commit(swaps: Swap[]): Promise<void> {
  for (const s of swaps) {
    const existing = await stat(s.target).catch(() => undefined);
    if (existing && existing.isDirectory() !== s.folder) {
      throw new Error(`${s.target} is a ${existing.isDirectory() ? "folder" : "file"}: refusing to replace it with a ${s.folder ? "folder" : "file"}`);
    }
    if (existing) {
      await rename(s.target, s.backup);
      s.backedUp = true;
    }
    await rename(s.staged, s.target);
    s.moved = true;
  }
}

async function rollback(swaps: Swap[]): Promise<void> {
  for (const s of [...swaps].reverse()) {
    if (s.moved) await rm(s.target, { recursive: true, force: true });
    if (s.backedUp) await rename(s.backup, s.target);
  }
}

/** Writes the plan completely or not at all; returns the paths written. */
export async function writeOutputs(plan: OutputPlan): Promise<string[]> {
  const createdDir = await firstMissing(plan.outDir);
  const createdExternal = await Promise.all([...plan.external.keys()].map((p) => firstMissing(dirname(p))));
  await mkdir(plan.outDir, { recursive: true });
  const staging = await mkdtemp(join(plan.outDir, ".synth-"));
  let swaps: Swap[] = [];
  let ok = false;
  try {
    swaps = await stage(plan, staging);
    await commit(swaps);
    ok = true;
    return swaps.map((s) => s.target);
  } catch (error) {
    await rollback(swaps);
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
    for (const s of swaps) {
      if (!s.moved) await rm(s.staged, { force: true, recursive: true });
      if (ok && s.backedUp) await rm(s.backup, { recursive: true, force: true });
    }
    if (!ok) {
      for (const dir of [createdDir, ...createdExternal]) if (dir) await rm(dir, { recursive: true, force: true });
    }
  }
}
