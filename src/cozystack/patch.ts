/**
 * The changes a CozyStack v0.37.10 checkout needs besides new files, as one unified diff
 * (`git apply`):
 *
 * - scripts/installer.sh `install_basic_charts`: upstream installs the CNI by hand (cilium,
 *   kube-ovn) before Flux can run only for paas-full/distro-full. On a CNI-less cluster with
 *   `bundle-name: paas-proxmox`, Flux would never get a pod network. paas-proxmox joins both
 *   conditions, since it runs cilium and kube-ovn like paas-full.
 * - packages/system/cozystack-resource-definitions/templates/cozyrds.yaml: at v0.37 every
 *   application's CozystackResourceDefinition ships in this one chart; the patch lets a
 *   bundle leave some out by name (`values.exclude`), which paas-proxmox uses for the
 *   KubeVirt applications. Without `exclude` the chart renders as before.
 */

/** One hunk: where it starts in the old file, and its lines with their ' ', '-', '+' prefix. */
export interface Hunk {
  readonly oldStart: number;
  /** Text after the second `@@` (git's function context); informational. */
  readonly section?: string;
  readonly lines: readonly string[];
}

export interface FilePatch {
  /** Path inside the CozyStack checkout. */
  readonly path: string;
  readonly hunks: readonly Hunk[];
}

const installerPatch: FilePatch = {
  path: "scripts/installer.sh",
  hunks: [
    {
      oldStart: 52,
      section: "wait_for_crds() {",
      lines: [
        " install_basic_charts() {",
        '-  if [ "$BUNDLE" = "paas-full" ] || [ "$BUNDLE" = "distro-full" ]; then',
        '+  if [ "$BUNDLE" = "paas-full" ] || [ "$BUNDLE" = "distro-full" ] || [ "$BUNDLE" = "paas-proxmox" ]; then',
        "   make -C packages/system/cilium apply resume",
        "   fi",
        '-  if [ "$BUNDLE" = "paas-full" ]; then',
        '+  if [ "$BUNDLE" = "paas-full" ] || [ "$BUNDLE" = "paas-proxmox" ]; then',
        "     make -C packages/system/kubeovn apply resume",
        "   fi",
        " }",
      ],
    },
  ],
};

const resourceDefinitionsPatch: FilePatch = {
  path: "packages/system/cozystack-resource-definitions/templates/cozyrds.yaml",
  hunks: [
    {
      oldStart: 1,
      lines: [
        '+{{- $exclude := .Values.exclude | default list }}',
        ' {{- range $path, $_ := .Files.Glob "cozyrds/*" }}',
        '+{{- if not (has (base $path | trimSuffix ".yaml") $exclude) }}',
        " ---",
        " {{ $.Files.Get $path }}",
        " {{- end }}",
        "+{{- end }}",
      ],
    },
  ],
};

export const checkoutPatches: readonly FilePatch[] = [installerPatch, resourceDefinitionsPatch];

/** The file name of the patch inside the overlay. */
export const patchPath = "paas-proxmox/paas-proxmox.patch";

const count = (h: Hunk, kinds: string): number => h.lines.filter((l) => kinds.includes(l[0] ?? "")).length;

/** Old (`-`) and new (`+`) sides of a hunk, context included. */
export function hunkSides(h: Hunk): { before: string[]; after: string[] } {
  return {
    before: h.lines.filter((l) => l[0] !== "+").map((l) => l.slice(1)),
    after: h.lines.filter((l) => l[0] !== "-").map((l) => l.slice(1)),
  };
}

/** Unified diff text, as `git diff` writes it. */
export function renderPatch(patches: readonly FilePatch[] = checkoutPatches): string {
  const out: string[] = [];
  for (const p of patches) {
    out.push(`diff --git a/${p.path} b/${p.path}`, `--- a/${p.path}`, `+++ b/${p.path}`);
    let shift = 0;
    for (const h of p.hunks) {
      const oldCount = count(h, " -");
      const newCount = count(h, " +");
      const section = h.section ? ` ${h.section}` : "";
      out.push(`@@ -${h.oldStart},${oldCount} +${h.oldStart + shift},${newCount} @@${section}`, ...h.lines);
      shift += newCount - oldCount;
    }
  }
  return `${out.join("\n")}\n`;
}
