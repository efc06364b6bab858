import { Testing } from "cdk8s";
import { describe, expect, it } from "vitest";
import {
  ConstructPropError,
  KubeadmConfigTemplate,
  MachineDeployment,
  machineTag,
  ProxmoxMachineTemplate,
  providerIdArg,
  splitLabels,
  tenantObjects,
  UnsupportedApiError,
  type KubeObject,
  type ProxmoxMachineTemplateProps,
} from "../../../capi/index.js";
import { defaultConfig, type NodeGroupConfig, type PlatformConfig } from "../../../config/index.js";
import { defaultMaxUnhealthy } from "../../../capi/machine-health-check.js";
import { getProfile } from "../../../versions/index.js";

const api = getProfile("cozystack-v0.37").api;

function objectsOf(config: PlatformConfig): KubeObject[] {
  return [...tenantObjects(config).values()].flat();
}

function byKind(objects: KubeObject[], kind: string): any[] {
  return objects.filter((o) => o.kind === kind);
}

const pmtProps: ProxmoxMachineTemplateProps = {
  baseName: "t-w",
  namespace: "tenant-t",
  clusterName: "t",
  apiVersions: api,
  template: { kind: "id", templateId: 9000, sourceNode: "pve1" },
  sockets: 1,
  cores: 2,
  memoryMiB: 4096,
  diskGiB: 20,
  bridge: "vmbr0",
  storage: "local-lvm",
  tags: ["capi-t-w"],
};

function pmt(overrides: Partial<ProxmoxMachineTemplateProps> = {}): any {
  const chart = Testing.chart();
  new ProxmoxMachineTemplate(chart, "pmt", { ...pmtProps, ...overrides });
  return Testing.synth(chart)[0];
}

describe("TenantCluster", () => {
  it("emits the kinds of a Kamaji + capmox tenant with the profile's apiVersions", () => {
    const objects = objectsOf(defaultConfig());
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}`)).toEqual([
      `${api.kamajiControlPlane} KamajiControlPlane`,
      `${api.capmox} ProxmoxCluster`,
      `${api.capiCore} Cluster`,
      `${api.capmox} ProxmoxMachineTemplate`,
      `${api.capiBootstrap} KubeadmConfigTemplate`,
      `${api.capiCore} MachineDeployment`,
      `${api.capiCore} MachineHealthCheck`,
    ]);
    for (const o of objects) expect((o.metadata as any).namespace).toBe("tenant-demo");
  });

  it("wires the Cluster to the control plane and the ProxmoxCluster of the same name", () => {
    const objects = objectsOf(defaultConfig());
    const [cluster] = byKind(objects, "Cluster");
    expect(cluster.spec.controlPlaneRef).toEqual({ apiVersion: api.kamajiControlPlane, kind: "KamajiControlPlane", name: "demo", namespace: "tenant-demo" });
    expect(cluster.spec.infrastructureRef).toEqual({ apiVersion: api.capmox, kind: "ProxmoxCluster", name: "demo", namespace: "tenant-demo" });
    expect(cluster.spec.clusterNetwork.pods.cidrBlocks).toEqual(["10.243.0.0/16"]);
  });

  it("exposes the Kamaji control plane as a LoadBalancer, with a fixed address when given", () => {
    const config = defaultConfig();
    const [kcp] = byKind(objectsOf(config), "KamajiControlPlane");
    expect(kcp.spec.network).toEqual({ serviceType: "LoadBalancer" });
    expect(kcp.spec.version).toBe("v1.32.6");
    const fixed = { ...config, tenants: [{ ...config.tenants[0]!, controlPlane: { replicas: 3, serviceType: "LoadBalancer" as const, address: "10.0.0.20" } }] };
    const [kcp2] = byKind(objectsOf(fixed), "KamajiControlPlane");
    expect(kcp2.spec.network).toEqual({ serviceType: "LoadBalancer", serviceAddress: "10.0.0.20" });
    expect(kcp2.spec.replicas).toBe(3);
  });

  it("leaves the endpoint to Kamaji and gives capmox the pool, DNS, nodes and credentials", () => {
    const [pc] = byKind(objectsOf(defaultConfig()), "ProxmoxCluster");
    expect(pc.spec.externalManagedControlPlane).toBe(true);
    expect(pc.spec.controlPlaneEndpoint).toBeUndefined();
    expect(pc.spec.ipv4Config).toEqual({ addresses: ["10.0.0.100-10.0.0.199"], prefix: 24, gateway: "10.0.0.1", metric: 100 });
    expect(pc.spec.dnsServers).toEqual(["10.0.0.1"]);
    expect(pc.spec.allowedNodes).toEqual(["pve1", "pve2", "pve3"]);
    expect(pc.spec.credentialsRef).toEqual({ name: "demo-proxmox-credentials", namespace: "tenant-demo" });
  });

  it("joins workers with the Proxmox provider ID and an external cloud provider", () => {
    const [kct] = byKind(objectsOf(defaultConfig()), "KubeadmConfigTemplate");
    expect(kct.spec.template.spec.joinConfiguration.nodeRegistration.kubeletExtraArgs).toEqual({
      "provider-id": "proxmox://'{{ ds.meta_data.instance_id }}'",
      "cloud-provider": "external",
    });
    expect(providerIdArg).toBe("proxmox://'{{ ds.meta_data.instance_id }}'");
  });

  it("points the MachineDeployment at both hashed templates and carries autoscaler bounds", () => {
    const config = defaultConfig();
    const group = { ...config.tenants[0]!.nodeGroups[0]!, replicas: 3, minReplicas: 1, maxReplicas: 5 };
    const objects = objectsOf({ ...config, tenants: [{ ...config.tenants[0]!, nodeGroups: [group] }] });
    const [md] = byKind(objects, "MachineDeployment");
    const [pmt] = byKind(objects, "ProxmoxMachineTemplate");
    const [kct] = byKind(objects, "KubeadmConfigTemplate");
    expect(md.metadata.name).toBe("demo-workers");
    expect(md.spec.replicas).toBe(3);
    expect(md.metadata.annotations).toEqual({
      "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size": "1",
      "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size": "5",
      // what one VM offers, so the autoscaler can scale up from zero
      "capacity.cluster-autoscaler.kubernetes.io/cpu": "2",
      "capacity.cluster-autoscaler.kubernetes.io/memory": "4096Mi",
    });
    expect(md.spec.template.spec.infrastructureRef.name).toBe(pmt.metadata.name);
    expect(md.spec.template.spec.bootstrap.configRef.name).toBe(kct.metadata.name);
    expect(pmt.metadata.name).toMatch(/^demo-workers-[0-9a-f]{8}$/);
    const [mhc] = byKind(objects, "MachineHealthCheck");
    expect(mhc.spec.selector.matchLabels).toEqual(md.spec.selector.matchLabels);
  });

  it("renames the machine template when its spec changes, and only then", () => {
    const config = defaultConfig();
    const name = (memoryMiB: number, replicas = 2) => {
      const group = { ...config.tenants[0]!.nodeGroups[0]!, memoryMiB, replicas, minReplicas: replicas, maxReplicas: replicas };
      const objects = objectsOf({ ...config, tenants: [{ ...config.tenants[0]!, nodeGroups: [group] }] });
      return byKind(objects, "ProxmoxMachineTemplate")[0].metadata.name as string;
    };
    expect(name(4096)).toBe(name(4096));
    expect(name(4096, 5)).toBe(name(4096)); // replicas are not part of the VM shape
    expect(name(8192)).not.toBe(name(4096));
  });

  it("refuses a profile whose API shapes it cannot emit yet", () => {
    expect(() => objectsOf({ ...defaultConfig(), profile: "upstream" })).toThrow(UnsupportedApiError);
    expect(() => objectsOf({ ...defaultConfig(), profile: "upstream" })).toThrow(/profile: "upstream" is not yet supported.*cluster\.x-k8s\.io\/v1beta2/);
  });

  it("is deterministic", () => {
    expect(JSON.stringify(objectsOf(defaultConfig()))).toBe(JSON.stringify(objectsOf(defaultConfig())));
  });
});

describe("ProxmoxMachineTemplate (capmox rules)", () => {
  it("clones a template by id as a full clone onto the disk storage", () => {
    const spec = pmt().spec.template.spec;
    expect(spec).toMatchObject({ sourceNode: "pve1", templateID: 9000, full: true, storage: "local-lvm", memoryMiB: 4096 });
    expect(spec.templateSelector).toBeUndefined();
    expect(spec.network.default).toEqual({ bridge: "vmbr0", model: "virtio" });
    expect(spec.disks.bootVolume).toEqual({ disk: "scsi0", sizeGb: 20 });
  });

  it("skips capmox's guest-agent and cloud-init checks only when the node group says so", () => {
    expect(pmt().spec.template.spec.checks).toBeUndefined();
    expect(pmt({ guestAgentChecks: false }).spec.template.spec.checks).toEqual({ skipCloudInitStatus: true, skipQemuGuestAgent: true });
    // A new spec, a new template: machines roll when the setting changes.
    expect(pmt({ guestAgentChecks: false }).metadata.name).not.toBe(pmt().metadata.name);
  });

  it("selects a template by tags without a source node", () => {
    const spec = pmt({ template: { kind: "tags", tags: ["ubuntu", "k8s"], matchPolicy: "exact" } }).spec.template.spec;
    expect(spec.templateSelector).toEqual({ matchTags: ["ubuntu", "k8s"] });
    expect(spec.sourceNode).toBeUndefined();
    expect(spec.templateID).toBeUndefined();
  });

  it("drops storage and format for linked clones, and refuses them when given", () => {
    expect(pmt({ fullClone: false, storage: undefined }).spec.template.spec).toMatchObject({ full: false });
    expect(pmt({ fullClone: false, storage: undefined }).spec.template.spec.storage).toBeUndefined();
    expect(() => pmt({ fullClone: false })).toThrow(/ProxmoxMachineTemplate: storage "local-lvm" needs a full clone/);
    expect(() => pmt({ fullClone: false, storage: undefined, format: "qcow2" })).toThrow(/format "qcow2" needs a full clone/);
  });

  it.each([
    [{ memoryMiB: 4100 }, /memoryMiB 4100 must be a multiple of 8/],
    [{ diskGiB: 4 }, /diskGiB 4 must be an integer from 5/],
    [{ cores: 0 }, /cores 0 must be an integer from 1/],
    [{ tags: ["bad tag"] }, /tags "bad tag" is not a valid Proxmox tag/],
    [{ template: { kind: "id" as const, templateId: 50, sourceNode: "pve1" } }, /template\.templateId 50/],
    [{ template: { kind: "tags" as const, tags: ["u"], matchPolicy: "bestSubset" as const } }, /template\.matchPolicy "bestSubset" is not supported by capmox v1alpha1/],
  ])("names the field of a bad prop %#", (overrides, message) => {
    expect(() => pmt(overrides as Partial<ProxmoxMachineTemplateProps>)).toThrow(ConstructPropError);
    expect(() => pmt(overrides as Partial<ProxmoxMachineTemplateProps>)).toThrow(message);
  });

  it("always carries a tag the template lacks (capmox bug #848)", () => {
    const template = { kind: "tags" as const, tags: ["ubuntu", "k8s"], matchPolicy: "exact" as const };
    expect(() => pmt({ template, tags: ["UBUNTU", "k8s"] })).toThrow(/needs one tag the template lacks.*#848/);
    expect(pmt({ template, tags: ["ubuntu", "capi-t-w"] }).spec.template.spec.tags).toEqual(["capi-t-w", "ubuntu"]);
    const [gen] = byKind(objectsOf(defaultConfig()), "ProxmoxMachineTemplate");
    expect(gen.spec.template.spec.tags).toContain(machineTag("demo", "workers"));
  });

  it("refuses an apiVersion it cannot emit", () => {
    const upstream = getProfile("upstream").api;
    expect(() => pmt({ apiVersions: upstream })).toThrow(/ProxmoxMachineTemplate: apiVersions\.capmox infrastructure\.cluster\.x-k8s\.io\/v1alpha2 is not yet supported/);
  });
});

describe("node labels", () => {
  it("sends node-role labels through the Machine and others through the kubelet", () => {
    expect(splitLabels({ "node-role.kubernetes.io/worker": "", "example.com/disk": "ssd" })).toEqual({
      machine: { "node-role.kubernetes.io/worker": "" },
      kubelet: { "example.com/disk": "ssd" },
    });
    const config = defaultConfig();
    const group = { ...config.tenants[0]!.nodeGroups[0]!, labels: { "node-role.kubernetes.io/worker": "", "example.com/disk": "ssd", "a.io/b": "c" } };
    const objects = objectsOf({ ...config, tenants: [{ ...config.tenants[0]!, nodeGroups: [group] }] });
    expect(byKind(objects, "MachineDeployment")[0].spec.template.metadata.labels["node-role.kubernetes.io/worker"]).toBe("");
    expect(byKind(objects, "KubeadmConfigTemplate")[0].spec.template.spec.joinConfiguration.nodeRegistration.kubeletExtraArgs["node-labels"]).toBe("a.io/b=c,example.com/disk=ssd");
  });

  it("adds the SSH user only when keys are given", () => {
    const chart = Testing.chart();
    new KubeadmConfigTemplate(chart, "k", { baseName: "t-w", namespace: "n", clusterName: "t", apiVersions: api, sshAuthorizedKeys: ["ssh-ed25519 AAAA me"] });
    const [withKeys] = Testing.synth(chart);
    expect(withKeys.spec.template.spec.users).toEqual([{ name: "ubuntu", sudo: "ALL=(ALL) NOPASSWD:ALL", sshAuthorizedKeys: ["ssh-ed25519 AAAA me"] }]);
    const [none] = byKind(objectsOf(defaultConfig()), "KubeadmConfigTemplate");
    expect(none.spec.template.spec.users).toBeUndefined();
  });
});

describe("MachineDeployment", () => {
  const ref = { apiVersion: "x/v1", kind: "X", name: "x" };
  const make = (replicas: number, minReplicas?: number, maxReplicas?: number) => () =>
    new MachineDeployment(Testing.chart(), "md", { name: "t-w", namespace: "n", clusterName: "t", apiVersions: api, version: "v1.32.6", replicas, minReplicas, maxReplicas, bootstrapRef: ref, infrastructureRef: ref });

  it("validates its bounds at construction", () => {
    expect(make(2, 3)).toThrow(/MachineDeployment: minReplicas 3 must not exceed replicas \(2\)/);
    expect(make(2, 1, 1)).toThrow(/maxReplicas 1 must not be below replicas \(2\)/);
    expect(make(-1)).toThrow(/replicas -1/);
    expect(make(2, 0, 4)).not.toThrow();
  });
});

describe("MachineHealthCheck", () => {
  it("tolerates at least one unhealthy Machine of the smallest group (CAPI rounds the share down)", () => {
    expect([0, 1, 2, 3, 5, 10].map(defaultMaxUnhealthy)).toEqual(["100%", "100%", "50%", "40%", "40%", "40%"]);
  });

  const mhcOf = (over: Partial<NodeGroupConfig>) => {
    const config = defaultConfig();
    const group = { ...config.tenants[0]!.nodeGroups[0]!, ...over };
    return byKind(objectsOf({ ...config, tenants: [{ ...config.tenants[0]!, nodeGroups: [group] }] }), "MachineHealthCheck")[0];
  };

  it("takes today's timeouts by default and the node group's when set", () => {
    expect(mhcOf({}).spec).toMatchObject({
      nodeStartupTimeout: "20m",
      maxUnhealthy: "50%",
      unhealthyConditions: [{ type: "Ready", status: "Unknown", timeout: "5m" }, { type: "Ready", status: "False", timeout: "5m" }],
    });
    expect(mhcOf({ nodeStartupTimeout: "0s", unhealthyTimeout: "30s", maxUnhealthy: "1" }).spec).toMatchObject({
      nodeStartupTimeout: "0s",
      maxUnhealthy: 1,
      unhealthyConditions: [{ timeout: "30s" }, { timeout: "30s" }],
    });
  });

  it("refuses what Cluster API would refuse, naming the field", () => {
    expect(() => mhcOf({ nodeStartupTimeout: "20s" })).toThrow(/nodeStartupTimeout.*20s.*at least 30s/);
    expect(() => mhcOf({ unhealthyTimeout: "5 min" })).toThrow(/unhealthyTimeout.*5 min/);
    expect(() => mhcOf({ maxUnhealthy: "half" })).toThrow(/maxUnhealthy.*half/);
  });
});
