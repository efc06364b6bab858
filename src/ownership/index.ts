/**
 * How the VM test and the stages mark what they create, so that cleanup and `--sweep` only
 * ever touch those VMs: an ownership tag, a run-id tag, a name with the run id, and a
 * description marker. Its own folder, outside both, because the VM test runs the stages and
 * the stages read these marks: neither imports the other for them.
 *
 * The clone call already sets the name and the description (PVE writes both at once, with
 * the clone lock); the tags follow with the first config update. A VM interrupted in between
 * is still recognised by name plus description.
 */

/** Tag on every VM the VM test creates. */
export const OWNER_TAG = "cozy-vmtest";
/** Prefix of the run-id tag (`cozy-run-<run id>`). */
export const RUN_TAG_PREFIX = "cozy-run-";
/** Prefix of VM names (`cozy-vmtest-<run id>-<node>`). */
export const NAME_PREFIX = "cozy-vmtest-";
/** Start of the description of every VM the VM test creates. */
export const DESCRIPTION_MARKER = "created by cozy-proxmox vm-test run";

/** `20260101t120000-3fa9`: UTC start time (for --min-age) and 4 random hex digits. Valid in tags and names. */
export function newRunId(now: Date = new Date(), random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").toLowerCase();
  const suffix = Math.floor(random() * 0x10000).toString(16).padStart(4, "0");
  return `${stamp}-${suffix}`;
}

const RUN_ID = /^(\d{8})t(\d{6})-([0-9a-f]{4})$/;

export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

/** Start time of a run, from its id. */
export function runStartedAt(runId: string): Date | undefined {
  const m = RUN_ID.exec(runId);
  if (!m) return undefined;
  const [d, t] = [m[1] as string, m[2] as string];
  const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function runTag(runId: string): string {
  return `${RUN_TAG_PREFIX}${runId}`;
}

export function vmName(runId: string, node: string): string {
  return `${NAME_PREFIX}${runId}-${node}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63).replace(/-+$/, "");
}

export function vmDescription(runId: string): string {
  return `${DESCRIPTION_MARKER} ${runId}; safe to delete (npm run vm-test -- --sweep --yes)`;
}

/** `a;b;c` → lower-cased tags. */
export function splitTags(tags: string | undefined): string[] {
  return (tags ?? "")
    .split(/[;,\s]+/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * The run id a VM belongs to: its name must carry the run id, and either its tags (ownership
 * plus run tag) or its description marker must name the same run. Undefined if not ours.
 */
export function ownedRunId(vm: { readonly tags?: string; readonly name?: string; readonly description?: string }): string | undefined {
  const tags = splitTags(vm.tags);
  if (tags.includes(OWNER_TAG)) {
    const tagged = tags.find((t) => t.startsWith(RUN_TAG_PREFIX))?.slice(RUN_TAG_PREFIX.length);
    if (tagged && isRunId(tagged) && vm.name?.startsWith(`${NAME_PREFIX}${tagged}-`)) return tagged;
  }
  const described = vm.description?.startsWith(DESCRIPTION_MARKER) ? vm.description.slice(DESCRIPTION_MARKER.length).trim().split(/[;\s]/)[0] : undefined;
  // Both must agree: the description alone could be copied onto any VM.
  if (described && isRunId(described) && vm.name?.startsWith(`${NAME_PREFIX}${described}-`)) return described;
  return undefined;
}

/** Tags for a VM of this run (they replace the tags the clone copied from the template). */
export function vmTags(runId: string): string {
  return `${OWNER_TAG};${runTag(runId)}`;
}
