/**
 * The paas-proxmox composition: paas-full's platform without KubeVirt, with Cluster API on
 * Proxmox (capmox + in-cluster IPAM next to paas-full's CAPI operator, core, kubeadm
 * bootstrap and Kamaji control-plane providers) and the Proxmox CSI plugin and CCM.
 */
import { parse } from "yaml";
import { definitionChartDir, definitionNamespace, overlayCharts } from "./overlay-charts.js";
import { emitRelease } from "./emit.js";
import { BundleError, type Release } from "./release.js";
import type { BundleEntry, BundleSource } from "./source.js";

/** paas-full releases the bundle leaves out, with the reason. */
export const removedReleases: Readonly<Record<string, string>> = {
  "kubevirt-operator": "KubeVirt: tenant workers are Proxmox VMs, not KubeVirt VMs",
  kubevirt: "KubeVirt: tenant workers are Proxmox VMs, not KubeVirt VMs",
  "kubevirt-instancetypes": "KubeVirt instance types; needs kubevirt",
  "kubevirt-cdi-operator": "KubeVirt CDI imports disks for KubeVirt VMs",
  "kubevirt-cdi": "KubeVirt CDI imports disks for KubeVirt VMs",
  "gpu-operator": "set up for GPU passthrough into KubeVirt VMs (sandboxWorkloads, no driver or device plugin)",
  "capi-providers-infraprovider": "the KubeVirt Cluster API provider (capk); capmox replaces it",
};

/**
 * CozystackResourceDefinitions of v0.37.10's `cozystack-resource-definitions` chart whose
 * applications need KubeVirt: VMs, VM disks (CDI DataVolumes), and the `kubernetes` app,
 * whose v0.37 chart builds workers from KubevirtMachineTemplates. The bundle asks the chart
 * to leave them out (`values.exclude`, added by the overlay's patch); tenant clusters on
 * Proxmox come from this project's Cluster API manifests instead.
 */
export const kubevirtResourceDefinitions = ["kubernetes", "virtual-machine", "vm-disk", "vm-instance"] as const;

const resourceDefinitionsRelease = "cozystack-resource-definitions";

interface Addition {
  readonly release: Omit<Release, "chart" | "releaseName"> & { readonly chartDir: string };
  /** The new entry goes right after this paas-full release (or its replacement). */
  readonly after: string;
}


/** The bundle release of the tenant app's resource-definition chart. */
export const definitionRelease = {
  name: definitionChartDir,
  chartDir: definitionChartDir,
  namespace: definitionNamespace,
  privileged: false,
  optional: false,
  dependsOn: ["cilium", "kubeovn", "cozystack-api", "cozystack-controller", "cozystack-resource-definition-crd"],
};

const additions: readonly Addition[] = [
  {
    after: "capi-providers-cpprovider",
    release: {
      name: "capi-providers-ipam-in-cluster",
      chartDir: "capi-providers-ipam-in-cluster",
      namespace: "cozy-cluster-api",
      privileged: true,
      optional: false,
      dependsOn: ["cilium", "kubeovn", "capi-operator"],
    },
  },
  {
    after: "capi-providers-ipam-in-cluster",
    release: {
      name: "capi-providers-infraprovider-proxmox",
      chartDir: "capi-providers-infraprovider-proxmox",
      namespace: "cozy-cluster-api",
      privileged: true,
      optional: false,
      // capmox has no DHCP mode: every machine address comes from an in-cluster IP pool.
      dependsOn: ["cilium", "kubeovn", "capi-operator", "capi-providers-ipam-in-cluster"],
    },
  },
  {
    after: "snapshot-controller",
    release: {
      name: "proxmox-ccm",
      chartDir: "proxmox-ccm",
      namespace: "cozy-proxmox-ccm",
      privileged: true,
      optional: false,
      dependsOn: ["cilium", "kubeovn"],
    },
  },
  {
    after: "proxmox-ccm",
    release: {
      name: "proxmox-csi",
      chartDir: "proxmox-csi",
      namespace: "cozy-proxmox-csi",
      privileged: true,
      optional: false,
      // The CSI plugin places volumes by the topology labels the CCM puts on nodes.
      dependsOn: ["cilium", "kubeovn", "proxmox-ccm"],
    },
  },
  // The tenant Kubernetes app on Proxmox (src/cozystack/app): its CozystackResourceDefinition,
  // installed like CozyStack's own resource definitions: after the CRD and after cozystack-api
  // and -controller, which restart on a new definition so the kind appears.
  { after: "cozystack-resource-definitions", release: definitionRelease },
];

/** The typed release of an addition; its chart must be one of the overlay's. */
function additionRelease(a: Addition): Release {
  const chart = overlayCharts.find((c) => c.dir === a.release.chartDir);
  if (!chart) throw new BundleError([`release ${a.release.name}: no overlay chart in packages/system/${a.release.chartDir}`]);
  const { chartDir: _dir, ...rest } = a.release;
  return { ...rest, releaseName: rest.name, chart: chart.chart };
}

/** Reads an entry that has no template actions as a typed release. */
export function staticRelease(entry: BundleEntry): Release {
  if (entry.text.includes("{{")) {
    throw new BundleError([`release ${entry.name}: its paas-full entry is templated; it cannot be changed as data`]);
  }
  const [r] = parse(entry.text) as Record<string, unknown>[];
  if (!r || typeof r.chart !== "string" || typeof r.namespace !== "string") {
    throw new BundleError([`release ${entry.name}: its paas-full entry lacks chart or namespace`]);
  }
  return {
    name: entry.name,
    releaseName: typeof r.releaseName === "string" ? r.releaseName : entry.name,
    chart: r.chart,
    namespace: r.namespace,
    privileged: r.privileged === true,
    optional: r.optional === true,
    dependsOn: Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [],
    ...(r.values ? { values: r.values as Record<string, unknown> } : {}),
    ...(Array.isArray(r.valuesFiles) ? { valuesFiles: r.valuesFiles.map(String) } : {}),
  };
}

/** cozystack-resource-definitions with the KubeVirt applications excluded. */
function withoutKubevirtDefinitions(entry: BundleEntry): BundleEntry {
  const r = staticRelease(entry);
  const values = { ...r.values, exclude: [...kubevirtResourceDefinitions] };
  return { ...entry, text: emitRelease({ ...r, values }) };
}

/** paas-full's entries turned into paas-proxmox's. */
export function composePaasProxmox(paasFull: BundleSource): BundleEntry[] {
  const problems: string[] = [];
  const known = new Set(paasFull.entries.map((e) => e.name));
  for (const name of [...Object.keys(removedReleases), resourceDefinitionsRelease]) {
    if (!known.has(name)) problems.push(`paas-full.yaml: release ${name} is gone; the paas-proxmox composition expects it`);
  }
  if (problems.length > 0) throw new BundleError(problems);

  const entries: BundleEntry[] = paasFull.entries
    .filter((e) => !(e.name in removedReleases))
    .map((e) => (e.name === resourceDefinitionsRelease ? withoutKubevirtDefinitions(e) : e));
  for (const a of additions) {
    const entry: BundleEntry = { name: a.release.name, text: emitRelease(additionRelease(a)), guards: [] };
    const at = entries.findIndex((e) => e.name === a.after);
    // Without its anchor (a changed paas-full) the entry still goes in, at the end.
    if (at < 0) entries.push(entry);
    else entries.splice(at + 1, 0, entry);
  }
  return entries;
}
