/**
 * A CozyStack system chart that wraps an upstream Helm chart as a dependency (the way
 * CozyStack vendors upstream charts under `charts/`), with values for Proxmox. The
 * upstream archive goes into `charts/` when the vendor step pulled it; otherwise the chart
 * only declares the dependency, and `helm dependency build` must fetch it before CozyStack
 * packages the chart (`helm template` fails loudly until then) — or, when asked, a local
 * stand-in takes its place.
 */
import { chartYaml, packageMakefile, underDir, yamlText, type ChartFiles } from "./files.js";
import type { ChartPin } from "../artifacts/pins.js";

/** Where the upstream chart of a wrapper comes from in this overlay. */
export type UpstreamSource =
  | { readonly kind: "vendored"; readonly archive: Buffer }
  | { readonly kind: "stand-in"; readonly files: ChartFiles }
  | { readonly kind: "declared" };

export interface UpstreamWrapperProps {
  readonly dir: string;
  readonly namespace: string;
  readonly description: string;
  readonly pin: ChartPin;
  readonly upstream: UpstreamSource;
  /** Values for the upstream chart (under its name in values.yaml). */
  readonly values: Record<string, unknown>;
  readonly valuesComment: readonly string[];
  /** Shown after install (templates/NOTES.txt). */
  readonly notes: string;
}

export function upstreamWrapperChart(p: UpstreamWrapperProps): ChartFiles {
  const files: ChartFiles = new Map<string, string | Buffer>([
    [
      "Chart.yaml",
      chartYaml({
        name: `cozy-${p.dir}`,
        description: p.description,
        appVersion: p.pin.appVersion,
        dependencies: [{ name: p.pin.name, version: p.pin.version, repository: p.pin.repository }],
        annotations: { "paas-proxmox/upstream-chart": p.upstream.kind },
      }),
    ],
    ["Makefile", packageMakefile(p.dir, p.namespace)],
    ["values.yaml", `${p.valuesComment.map((l) => `# ${l}`.trimEnd()).join("\n")}\n${yamlText({ [p.pin.name]: p.values })}`],
    ["templates/NOTES.txt", p.notes],
  ]);
  if (p.upstream.kind === "vendored") files.set(`charts/${p.pin.name}-${p.pin.version}.tgz`, p.upstream.archive);
  if (p.upstream.kind === "stand-in") {
    for (const [path, content] of underDir(`charts/${p.pin.name}`, p.upstream.files)) files.set(path, content);
  }
  return files;
}
