/**
 * The app chart (charts/kubernetes-proxmox in the repository, and the overlay's copy of it
 * for a platform) and its definition chart with the real helm: `helm lint --strict` and
 * `helm template` for the default values and a matrix of values; every rendered object
 * validates strictly against its CRD in shared/reference/crds; bad values fail with an
 * error that names the field.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse, stringify } from "yaml";
import { defaultConfig } from "../../../config/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatValidationIssues, validateObjects } from "../../../crds/index.js";
import { appChartDir, chartValuesSchema, defaultValues, releaseName, tenantResource } from "../../../cozystack/app/index.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { equivalenceCases } from "./cases.js";
import { helm, helmTemplate, scratch, writeAppCharts, type Obj } from "./helm-app.js";

const tmp = scratch("app-chart-");
afterAll(tmp.dispose);

const config = testPlatformConfig();
let app: string;
let definition: string;
beforeAll(() => {
  ({ app, definition } = writeAppCharts(tmp.dir, config));
});

function expectValid(objects: readonly Obj[]): void {
  const issues = validateObjects(objects, { skipBuiltIn: true });
  expect(issues, formatValidationIssues(issues)).toEqual([]);
}

const render = (values?: Record<string, unknown>, release = "kubernetes-demo", namespace = "tenant-demo") => helmTemplate(app, { release, namespace, values });

/** Every custom resource spec of the equivalence matrix, each with its own chart (the defaults follow the platform). */
const matrix = equivalenceCases.flatMap((c, i) => c.config.tenants.map((t) => ({ label: `${c.name}: ${t.name}`, caseIndex: i, tenant: t, config: c.config })));

describe("the chart folder in the repository", () => {
  it("passes helm lint --strict as it is", async () => {
    expect(await helm("lint", "--strict", appChartDir())).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("its values.yaml holds the built-in default platform's values, which its own schema accepts", () => {
    const values = parse(readFileSync(join(appChartDir(), "values.yaml"), "utf8")) as Record<string, unknown>;
    expect(values).toEqual(defaultValues(defaultConfig()));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(chartValuesSchema());
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it("renders the default tenant with its own defaults, every object valid against its CRD", async () => {
    const objects = await helmTemplate(appChartDir(), { release: "kubernetes-demo", namespace: "tenant-demo" });
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(["Cluster", "KamajiControlPlane", "ProxmoxCluster", "MachineDeployment", "ProxmoxMachineTemplate"]));
    expectValid(objects);
  });
});

describe("helm lint --strict", () => {
  it("passes for the default values", async () => {
    expect(await helm("lint", "--strict", app)).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it.each(matrix.map((m) => [m.label, m] as const))("passes for the custom resource of %s", async (_label, m) => {
    const dir = join(tmp.dir, `lint-${m.caseIndex}`);
    const chart = writeAppCharts(dir, m.config).app;
    const file = join(dir, `${m.tenant.name}.values.yaml`);
    writeFileSync(file, stringify(tenantResource(m.config, m.tenant).spec, { version: "1.1" }));
    expect(await helm("lint", "--strict", chart, "--values", file)).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("passes for the definition chart", async () => {
    expect(await helm("lint", "--strict", definition)).toContain("1 chart(s) linted, 0 chart(s) failed");
  });
});

describe("helm template: objects validate strictly against their CRDs", () => {
  it("default values: the cluster, one node group, Cilium, the Proxmox CCM and CSI", async () => {
    const objects = await render();
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`.replace(/-[0-9a-f]{8}$/, "-<hash>")).sort();
    expect(kinds).toEqual([
      "Cluster/demo",
      "ConfigMap/demo-proxmox-access",
      "HelmRelease/demo-cilium",
      "HelmRelease/demo-proxmox-ccm",
      "HelmRelease/demo-proxmox-csi",
      "KamajiControlPlane/demo",
      "KubeadmConfigTemplate/demo-md0-<hash>",
      "MachineDeployment/demo-md0",
      "MachineHealthCheck/demo-md0",
      "ProxmoxCluster/demo",
      "ProxmoxMachineTemplate/demo-md0-<hash>",
    ]);
    expectValid(objects);
  });

  it.each(matrix.map((m) => [m.label, m] as const))("custom resource of %s", async (_label, m) => {
    const chart = writeAppCharts(join(tmp.dir, `template-${m.caseIndex}`), m.config).app;
    const objects = await helmTemplate(chart, { release: releaseName(m.tenant), namespace: m.tenant.namespace, values: tenantResource(m.config, m.tenant).spec as Record<string, unknown> });
    expect(objects.length).toBeGreaterThan(8);
    expectValid(objects);
  });

  it("control-plane resources, add-ons and value overrides", async () => {
    const objects = await render({
      controlPlane: {
        apiServer: { resources: { cpu: "2", memory: "4Gi" } },
        scheduler: { resources: { cpu: "500m" } },
        konnectivity: { server: { resources: { memory: "256Mi" } } },
      },
      addons: {
        certManager: { enabled: true, valuesOverride: { "cert-manager": { replicaCount: 2 } } },
        gatewayAPI: { enabled: true },
        fluxcd: { enabled: true },
        cilium: { valuesOverride: { cilium: { hubble: { enabled: true } } } },
        proxmoxCsi: { valuesOverride: { "proxmox-csi-plugin": { node: { priorityClassName: "system-node-critical" } } } },
      },
    });
    expectValid(objects);
    const kcp = objects.find((o) => o.kind === "KamajiControlPlane") as unknown as { spec: Record<string, unknown> };
    expect(kcp.spec.apiServer).toEqual({ resources: { requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } } });
    expect(kcp.spec.scheduler).toEqual({ resources: { requests: { cpu: "500m" }, limits: { cpu: "500m" } } });
    expect(kcp.spec.controllerManager).toBeUndefined();
    expect(kcp.spec.addons).toMatchObject({ konnectivity: { server: { resources: { requests: { memory: "256Mi" } } } } });

    const releases = new Map(objects.filter((o) => o.kind === "HelmRelease").map((o) => [o.metadata.name, o as unknown as HelmRelease]));
    expect([...releases.keys()].sort()).toEqual(
      ["cert-manager", "cert-manager-crds", "cilium", "fluxcd", "fluxcd-operator", "gateway-api-crds", "proxmox-ccm", "proxmox-csi"].map((n) => `demo-${n}`),
    );
    expect(releases.get("demo-cert-manager")!.spec.values).toEqual({ "cert-manager": { replicaCount: 2 } });
    expect(releases.get("demo-cert-manager")!.spec.dependsOn.map((d) => d.name)).toEqual(["kubernetes-demo", "demo-cilium", "demo-cert-manager-crds"]);
    expect(releases.get("demo-cilium")!.spec.values).toMatchObject({ cilium: { hubble: { enabled: true }, routingMode: "tunnel", kubeProxyReplacement: false } });
    expect(releases.get("demo-proxmox-csi")!.spec.values).toMatchObject({ "proxmox-csi-plugin": { node: { priorityClassName: "system-node-critical" }, extraVolumes: [] } });
  });
});

describe("CozyStack v1.6's value names", () => {
  type Md = { spec: { replicas: number; template: { spec: { version: string; bootstrap: { configRef: { name: string } }; infrastructureRef: { name: string } } } } };
  type Kct = { spec: { template: { spec: { joinConfiguration: { nodeRegistration: { kubeletExtraArgs: Record<string, string> } } } } } };
  type Pmt = { spec: { template: { spec: { disks: { bootVolume: { sizeGb: number } } } } } };
  const find = <T,>(objects: Obj[], kind: string): T => objects.find((o) => o.kind === kind) as unknown as T;

  it("vMAJOR.MINOR runs the chart's patch, diskSize sizes the boot disk, kubelet reservations become kubelet flags; all valid against the CRDs", async () => {
    const objects = await render({
      version: "v1.34",
      nodeGroups: {
        md0: {
          minReplicas: 2,
          maxReplicas: 5,
          resources: { cpu: 4, memory: "8Gi" },
          diskSize: "40Gi",
          roles: ["ingress-nginx"],
          kubelet: { systemReservedCpu: "100m", systemReservedMemory: "512Mi", kubeReservedMemory: "256Mi", evictionHardMemory: "7%", evictionSoftMemory: "1Gi" },
        },
      },
    });
    expectValid(objects);
    expect((find<{ spec: { version: string } }>(objects, "KamajiControlPlane")).spec.version).toBe("v1.34.9");
    const md = find<Md>(objects, "MachineDeployment");
    expect(md.spec.template.spec.version).toBe("v1.34.9");
    expect(md.spec.replicas).toBe(2);
    expect(find<Pmt>(objects, "ProxmoxMachineTemplate").spec.template.spec.disks.bootVolume.sizeGb).toBe(40);
    expect(find<Kct>(objects, "KubeadmConfigTemplate").spec.template.spec.joinConfiguration.nodeRegistration.kubeletExtraArgs).toEqual({
      "provider-id": "proxmox://'{{ ds.meta_data.instance_id }}'",
      "cloud-provider": "external",
      "system-reserved": "cpu=100m,memory=512Mi",
      "kube-reserved": "memory=256Mi",
      "eviction-hard": "memory.available<7%",
      "eviction-soft": "memory.available<1Gi",
      "eviction-soft-grace-period": "memory.available=1m30s",
    });
  });

  it("nodeHealthCheck applies to every group without its own setting; a group's own wins", async () => {
    type Mhc = { metadata: { name: string }; spec: { maxUnhealthy: string | number; nodeStartupTimeout: string } };
    const objects = await render({
      nodeHealthCheck: { maxUnhealthy: "50%", nodeStartupTimeout: "10m" },
      nodeGroups: { md0: { minReplicas: 2 }, md1: { minReplicas: 2, maxUnhealthy: "1", nodeStartupTimeout: "15m" } },
    });
    expectValid(objects);
    const mhcs = objects.filter((o) => o.kind === "MachineHealthCheck") as unknown as Mhc[];
    expect(mhcs.map((m) => [m.metadata.name.replace(/^.*-(md\d)$/, "$1"), m.spec.maxUnhealthy, m.spec.nodeStartupTimeout]).sort()).toEqual([
      ["md0", "50%", "10m"],
      ["md1", 1, "15m"],
    ]);
  });

  it("a v0.37 object renders the same objects as its v1.6 spelling (an upgrade renames no template, so it replaces no Machine)", async () => {
    const v037 = await render({ version: "v1.33.13", nodeGroups: { md0: { replicas: 2, minReplicas: 2, maxReplicas: 4, sockets: 1, ephemeralStorage: "30Gi", resources: { cpu: 2, memory: "4Gi" } } } });
    const v16 = await render({ version: "v1.33", nodeGroups: { md0: { minReplicas: 2, maxReplicas: 4, diskSize: "30Gi", resources: { cpu: 2, memory: "4Gi" } } } });
    expect(v16).toEqual(v037);
    // both names given and equal are accepted
    expect(await render({ version: "v1.33", nodeGroups: { md0: { minReplicas: 2, maxReplicas: 4, diskSize: "30Gi", ephemeralStorage: "30Gi", resources: { cpu: 2, memory: "4Gi" } } } })).toEqual(v037);
  });
});

interface HelmRelease {
  metadata: { labels: Record<string, string> };
  spec: {
    values: Record<string, unknown>;
    dependsOn: { name: string; namespace: string }[];
    kubeConfig: { secretRef: { name: string; key: string } };
    valuesFrom?: { kind: string; name: string; valuesKey: string; targetPath?: string }[];
    targetNamespace: string;
    chart: { spec: { chart: string; sourceRef: { kind: string; name: string; namespace: string } } };
  };
}

describe("what reaches the tenant cluster", () => {
  it("the Proxmox CCM and CSI plugin: the overlay's system charts, Kamaji's kubeconfig, the token from the credentials Secret only", async () => {
    const objects = await render();
    for (const [name, chart, key] of [
      ["demo-proxmox-ccm", "cozy-proxmox-ccm", "proxmox-cloud-controller-manager"],
      ["demo-proxmox-csi", "cozy-proxmox-csi", "proxmox-csi-plugin"],
    ] as const) {
      const hr = objects.find((o) => o.kind === "HelmRelease" && o.metadata.name === name) as unknown as HelmRelease;
      expect(hr.spec.chart.spec).toMatchObject({ chart, sourceRef: { kind: "HelmRepository", name: "cozystack-system", namespace: "cozy-system" } });
      expect(hr.spec.kubeConfig.secretRef).toEqual({ name: "demo-admin-kubeconfig", key: "super-admin.svc" });
      expect(hr.metadata.labels["cozystack.io/target-cluster-name"]).toBe("demo");
      expect(hr.spec.valuesFrom).toEqual([
        { kind: "ConfigMap", name: "demo-proxmox-access", valuesKey: name.replace("demo-", "") + ".yaml" },
        { kind: "Secret", name: "demo-proxmox-credentials", valuesKey: "token", targetPath: `${key}.config.clusters[0].token_id` },
        { kind: "Secret", name: "demo-proxmox-credentials", valuesKey: "secret", targetPath: `${key}.config.clusters[0].token_secret` },
      ]);
      expect(JSON.stringify(hr.spec.values)).not.toMatch(/token/);
    }
    const access = objects.find((o) => o.kind === "ConfigMap") as unknown as { data: Record<string, string> };
    expect(access.data["proxmox-csi.yaml"]).toContain(`url: ${config.proxmox.url}/api2/json`);
    expect(access.data["proxmox-ccm.yaml"]).toContain("provider: capmox");
    expect(Object.values(access.data).join("\n")).not.toMatch(/token|secret/);
  });

  it("the control plane is a LoadBalancer Service (optionally at a fixed address) the VMs can reach", async () => {
    const objects = await render({ controlPlane: { address: "10.0.0.60" } });
    const kcp = objects.find((o) => o.kind === "KamajiControlPlane") as unknown as { spec: { network: unknown } };
    expect(kcp.spec.network).toEqual({ serviceType: "LoadBalancer", serviceAddress: "10.0.0.60" });
  });

  it("the cluster is named after the application, not the release prefix", async () => {
    const objects = await render(undefined, "kubernetes-prod", "tenant-x");
    const capi = objects.filter((o) => o.kind !== "HelmRelease" && o.kind !== "ConfigMap");
    expect(new Set(capi.map((o) => JSON.stringify((o.metadata as { labels?: unknown }).labels)))).toEqual(new Set([JSON.stringify({ "cluster.x-k8s.io/cluster-name": "prod" })]));
    expect(capi.find((o) => o.kind === "Cluster")!.metadata.name).toBe("prod");
  });
});

describe("bad values fail naming the field", () => {
  const schemaCases: [string, Record<string, unknown>, string[]][] = [
    ["negative minReplicas", { nodeGroups: { md0: { minReplicas: -1 } } }, ["/nodeGroups/md0/minReplicas", "minimum"]],
    ["a KubeVirt-only field", { nodeGroups: { md0: { instanceType: "u1.medium" } } }, ["/nodeGroups/md0", "instanceType"]],
    ["memory in GB", { nodeGroups: { md0: { resources: { memory: "4GB" } } } }, ["/nodeGroups/md0/resources/memory"]],
    ["a tiny disk", { nodeGroups: { md0: { ephemeralStorage: "2Gi" } } }, ["/nodeGroups/md0/ephemeralStorage"]],
    ["an upper-case group name", { nodeGroups: { Workers: {} } }, ["/nodeGroups", "Workers"]],
    ["a label key with a space", { nodeGroups: { md0: { labels: { "bad key": "x" } } } }, ["/nodeGroups/md0/labels", "bad key"]],
    ["a minor-only version v1.6 does not offer", { version: "v1.30" }, ["/version"]],
    ["KubeVirt's GPUs", { nodeGroups: { md0: { gpus: [{ name: "nvidia.com/L40S" }] } } }, ["/nodeGroups/md0/gpus", "'not' failed"]],
    ["KubeVirt's per-group storageClass", { nodeGroups: { md0: { storageClass: "replicated" } } }, ["/nodeGroups/md0/storageClass", "'not' failed"]],
    ["a disk size in GB", { nodeGroups: { md0: { diskSize: "20G" } } }, ["/nodeGroups/md0/diskSize"]],
    ["kubelet reservations in a bad unit", { nodeGroups: { md0: { kubelet: { evictionHardMemory: "7 percent" } } } }, ["/nodeGroups/md0/kubelet/evictionHardMemory"]],
    ["a version the control plane cannot run", { version: "v1.27.3" }, ["/version"]],
    ["no control plane", { controlPlane: { replicas: 0 } }, ["/controlPlane/replicas"]],
    ["an unknown service type", { controlPlane: { serviceType: "Ingress" } }, ["/controlPlane/serviceType"]],
    ["a VLAN out of range", { proxmox: { vlan: 5000 } }, ["/proxmox/vlan"]],
    ["a template by tags without tags", { proxmox: { template: { kind: "tags" } } }, ["/proxmox/template", "tags"]],
    ["a bad address", { network: { addressRanges: [{ start: "10.0.0.300", end: "10.0.0.310" }] } }, ["/network/addressRanges/0/start"]],
    ["no DNS server", { network: { dnsServers: [] } }, ["/network/dnsServers"]],
    ["an add-on this chart does not have", { addons: { ingressNginx: { enabled: true } } }, ["/addons", "ingressNginx"]],
    ["a misspelt top-level field", { verison: "v1.32.6" }, ["verison", "not allowed"]],
    ["KubeVirt's top-level host", { host: "demo.example.org" }, ["host", "not allowed"]],
    ["a repeated tag", { nodeGroups: { md0: { tags: ["a", "a"] } } }, ["/nodeGroups/md0/tags"]],
    ["a multi-line SSH key", { sshAuthorizedKeys: ["ssh-ed25519 AAAA\nroot"] }, ["/sshAuthorizedKeys/0"]],
    ["a VMID range below PVE's first VMID", { proxmox: { vmIdRange: { start: 99, end: 120 } } }, ["/proxmox/vmIdRange/start"]],
    ["a health check timeout in words", { nodeGroups: { md0: { unhealthyTimeout: "5 minutes" } } }, ["/nodeGroups/md0/unhealthyTimeout"]],
    ["maxUnhealthy as a fraction", { nodeGroups: { md0: { maxUnhealthy: "0.5" } } }, ["/nodeGroups/md0/maxUnhealthy"]],
  ];
  it.each(schemaCases)("schema: %s", async (_name, values, expected) => {
    const error = await render(values).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toContain("values don't meet the specifications of the schema");
    for (const part of expected) expect(error).toContain(part);
  });

  const ruleCases: [string, Record<string, unknown>, string][] = [
    ["memory not a multiple of 8 MiB", { nodeGroups: { md0: { resources: { memory: "4100Mi" } } } }, "nodeGroups.md0.resources.memory: 4100Mi is not a multiple of 8 MiB"],
    ["minReplicas above replicas", { nodeGroups: { md0: { replicas: 1, minReplicas: 2 } } }, "nodeGroups.md0.minReplicas: 2 must not exceed replicas (1)"],
    ["maxReplicas below replicas", { nodeGroups: { md0: { replicas: 3, maxReplicas: 2 } } }, "nodeGroups.md0.maxReplicas: 2 must not be below replicas (3)"],
    ["CPUs not a multiple of sockets", { nodeGroups: { md0: { sockets: 2, resources: { cpu: 3 } } } }, "nodeGroups.md0.resources.cpu: 3 is not a multiple of sockets (2)"],
    ["a disk format with linked clones", { proxmox: { fullClone: false, format: "raw" } }, 'proxmox.format: "raw" needs a full clone'],
    ["a name too long for a label", { nodeGroups: { "a-node-group-name-of-forty-characters-ab": {} } }, "the MachineDeployment name"],
    ["a VMID range that ends before it starts", { proxmox: { vmIdRange: { start: 2000, end: 1999 } } }, "proxmox.vmIdRange: end 1999 must not be below start 2000"],
    [
      "a VMID range too small for maxReplicas plus a surge machine per group",
      { proxmox: { vmIdRange: { start: 2000, end: 2004 } }, nodeGroups: { a: { replicas: 1, maxReplicas: 3 }, b: { replicas: 1 } } },
      "proxmox.vmIdRange: 2000-2004 holds 5 VMIDs, the node groups need at least 6 (maxReplicas plus one surge machine per group)",
    ],
    ["a node startup timeout CAPI refuses", { nodeGroups: { md0: { nodeStartupTimeout: "0m10s" } } }, "nodeGroups.md0.nodeStartupTimeout: 0m10s must be 0 (no startup check) or at least 30s"],
    ["both disk names, disagreeing", { nodeGroups: { md0: { diskSize: "30Gi", ephemeralStorage: "20Gi" } } }, 'nodeGroups.md0.diskSize: "30Gi" differs from nodeGroups.md0.ephemeralStorage: "20Gi"'],
  ];
  it.each(ruleCases)("template rule: %s", async (_name, values, expected) => {
    await expect(render(values, "kubernetes-a-rather-long-application-name")).rejects.toThrow(expected);
  });
});

describe("the definition chart", () => {
  it("renders the CozystackResourceDefinition, valid against its CRD, with the resourceNames templates left for cozystack-api", async () => {
    const objects = await helmTemplate(definition, { release: "kubernetes-proxmox-rd", namespace: "cozy-system" });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["CozystackResourceDefinition/kubernetes"]);
    expectValid(objects);
    expect(JSON.stringify(objects[0])).toContain("{{ .name }}-admin-kubeconfig");
  });
});
