/**
 * A Cluster API provider chart in CozyStack's ConfigMap-vendored pattern (notes/cozystack.md
 * §5): a ConfigMap named after the provider version carries the gzipped release components
 * and metadata.yaml, and a provider object of the CAPI operator
 * (`operator.cluster.x-k8s.io/v1alpha2`) fetches them through `fetchConfig.selector`, so the
 * operator never downloads from GitHub. Each chart uses a selector label of its own: a
 * malformed ConfigMap under a shared selector breaks the operator's pass for every provider.
 */
import { gzipSync } from "node:zlib";
import { chartYaml, packageMakefile, yamlText, type ChartFiles } from "./files.js";

export interface CapiProviderChartProps {
  /** Directory under packages/system/. */
  readonly dir: string;
  readonly description: string;
  /** Namespace CozyStack installs it into (for the Makefile). */
  readonly namespace: string;
  /** Kind of the operator object. */
  readonly kind: "InfrastructureProvider" | "IPAMProvider";
  /** `metadata.name` of the provider object, the clusterctl provider name (`proxmox`, `in-cluster`). */
  readonly providerName: string;
  /** Upstream release tag, e.g. `v0.7.7`. */
  readonly releaseTag: string;
  /** Suffix that keeps the ConfigMap name unique in cozy-cluster-api, e.g. `infraprovider-proxmox`. */
  readonly versionSuffix: string;
  /** Label key of the ConfigMap and of `fetchConfig.selector`. */
  readonly selectorLabel: string;
  /** The release's components YAML and metadata.yaml, byte for byte. */
  readonly components: Buffer;
  readonly metadata: Buffer;
  /** Where the components come from and their sum, recorded in Chart.yaml annotations. */
  readonly componentsUrl: string;
  readonly componentsSha256: string;
  /**
   * Default name of the Secret (in the release namespace) whose keys the operator substitutes
   * into the components, e.g. PROXMOX_URL. Absent: the provider takes no variables.
   */
  readonly configSecretName?: string;
  /** Extra manager flags (`deployment.containers[manager].args`). @default {} */
  readonly managerArgs?: Readonly<Record<string, string>>;
  /** Manager resources. */
  readonly resources: Readonly<Record<string, unknown>>;
  /** Comment lines at the top of values.yaml. */
  readonly valuesComment: readonly string[];
}

/** `v0.7.7-infraprovider-proxmox`: the provider's `spec.version` and its ConfigMap's name. */
export const providerVersion = (p: Pick<CapiProviderChartProps, "releaseTag" | "versionSuffix">): string =>
  `${p.releaseTag}-${p.versionSuffix}`;

function configMapTemplate(p: CapiProviderChartProps): string {
  return `# The operator reads every ConfigMap its selector matches; the name must parse as the
# provider's spec.version.
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${providerVersion(p)}
  labels:
    ${p.selectorLabel}: cozy
  annotations:
    provider.cluster.x-k8s.io/compressed: "true"
binaryData:
  components: {{ .Files.Get "files/components.gz" | b64enc | quote }}
data:
  metadata: {{ .Files.Get "files/metadata.yaml" | quote }}
`;
}

function providerTemplate(p: CapiProviderChartProps): string {
  const configSecret = p.configSecretName
    ? `  {{- with .Values.configSecret }}
  # The operator substitutes this Secret's keys into the components; it must live in the
  # provider's namespace.
  configSecret:
    name: {{ .name }}
    namespace: {{ $.Release.Namespace }}
  {{- end }}
`
    : "";
  return `apiVersion: operator.cluster.x-k8s.io/v1alpha2
kind: ${p.kind}
metadata:
  name: ${p.providerName}
spec:
  # ${p.componentsUrl}
  version: ${providerVersion(p)}
${configSecret}  fetchConfig:
    selector:
      matchLabels:
        ${p.selectorLabel}: cozy
  deployment:
    containers:
    - name: manager
      {{- with .Values.manager.args }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.manager.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
`;
}

function valuesYaml(p: CapiProviderChartProps): string {
  const values: Record<string, unknown> = { manager: { args: { ...p.managerArgs }, resources: p.resources } };
  if (p.configSecretName) values.configSecret = { name: p.configSecretName };
  return `${p.valuesComment.map((l) => `# ${l}`.trimEnd()).join("\n")}\n${yamlText(values)}`;
}

/** The chart's files, relative to its directory. */
export function capiProviderChart(p: CapiProviderChartProps): ChartFiles {
  return new Map<string, string | Buffer>([
    [
      "Chart.yaml",
      chartYaml({
        name: `cozy-${p.dir}`,
        description: p.description,
        appVersion: p.releaseTag,
        annotations: { "paas-proxmox/components-url": p.componentsUrl, "paas-proxmox/components-sha256": p.componentsSha256 },
      }),
    ],
    ["Makefile", packageMakefile(p.dir, p.namespace)],
    ["values.yaml", valuesYaml(p)],
    // gzip without name or time stamp (as `gzip -9 -n`): same components, same bytes.
    ["files/components.gz", gzipSync(p.components, { level: 9 })],
    ["files/metadata.yaml", p.metadata],
    ["templates/configmap.yaml", configMapTemplate(p)],
    ["templates/provider.yaml", providerTemplate(p)],
  ]);
}
