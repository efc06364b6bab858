/** Stage 2's check logic on constructed cluster states (no server): one fault at a time. */
import { describe, expect, it } from "vitest";
import { defaultConfig, type PlatformConfig } from "../../../config/index.js";
import type { ClusterResource, ClusterStatusEntry, NetworkInterface, NodeStorage, QemuConfig } from "../../../proxmox/index.js";
import { type StageResult, defaultTimeouts, runStage } from "../../../stages/index.js";
import { cpuModel } from "../../../stages/stage2/talos.js";
import { fakeApi, notFound, offline } from "./fake-api.js";

interface Cluster {
  status: ClusterStatusEntry[];
  network: Record<string, NetworkInterface[]>;
  storages: Record<string, NodeStorage[]>;
  resources: ClusterResource[];
  configs: Record<number, QemuConfig>;
  offline: Set<string>;
}

const GiB = 1024 ** 3;
const template: QemuConfig = {
  digest: "d",
  name: "ubuntu-template",
  template: 1,
  boot: "order=scsi0;net0",
  agent: "1",
  scsi0: "ceph:base-9000-disk-0,size=16G",
  net0: "virtio=BC:24:11:90:00:01,bridge=vmbr0",
};

function healthy(): Cluster {
  const nodes = ["pve1", "pve2", "pve3"];
  return {
    status: [
      { type: "cluster", id: "cluster", name: "lab", nodes: 3, quorate: 1, version: 3 },
      ...nodes.map((n, i) => ({ type: "node" as const, id: `node/${n}`, name: n, nodeid: i + 1, ip: `10.0.0.${11 + i}`, online: 1 as const, local: 0 as const })),
    ],
    network: Object.fromEntries(nodes.map((n) => [n, [{ iface: "vmbr0", type: "bridge", active: 1, bridge_vlan_aware: 1, bridge_vids: "2-4094" }]])),
    storages: Object.fromEntries(
      nodes.map((n) => [
        n,
        [
          { storage: "local", type: "dir", content: "iso,vztmpl,backup", enabled: 1, active: 1, shared: 0, avail: 80 * GiB },
          { storage: "ceph", type: "rbd", content: "images", enabled: 1, active: 1, shared: 1, avail: 900 * GiB },
        ],
      ]),
    ),
    resources: [{ id: "qemu/9000", type: "qemu", vmid: 9000, node: "pve1", name: "ubuntu-template", template: 1, tags: "k8s-template" }],
    configs: { 9000: template },
    offline: new Set(),
  };
}

function config(over: Partial<PlatformConfig["proxmox"]> = {}): PlatformConfig {
  const base = defaultConfig();
  return { ...base, proxmox: { ...base.proxmox, diskStorage: "ceph", ...over } };
}

function run(cluster: Cluster, cfg: PlatformConfig = config()): Promise<StageResult> {
  const reach = (node: string, path: string): void => {
    if (cluster.offline.has(node)) throw offline(path);
  };
  const api = fakeApi({
    clusterStatus: async () => cluster.status,
    nodeNetwork: async (node) => (reach(node, `/nodes/${node}/network`), cluster.network[node] ?? []),
    nodeStorages: async (node) => (reach(node, `/nodes/${node}/storage`), cluster.storages[node] ?? []),
    clusterResources: async () => cluster.resources,
    nodeStatus: async (node) => (reach(node, `/nodes/${node}/status`), { memory: { total: 64 * GiB, used: 8 * GiB, free: 56 * GiB }, cpuinfo: { cpus: 16 } }),
    vmStatus: async (node, vmid) => {
      reach(node, `/nodes/${node}/qemu/${vmid}/status/current`);
      const r = cluster.resources.find((x) => x.vmid === vmid && x.node === node);
      if (!r) throw notFound(`nodes/${node}/qemu-server/${vmid}.conf`);
      return { vmid, status: String(r.status ?? "stopped") };
    },
    vmConfig: async (node, vmid) => {
      reach(node, `/nodes/${node}/qemu/${vmid}/config`);
      const c = cluster.configs[vmid];
      if (!c || !cluster.resources.some((x) => x.vmid === vmid && x.node === node)) throw notFound(`nodes/${node}/qemu-server/${vmid}.conf`);
      return c;
    },
    agentNetworkInterfaces: async () => {
      throw new Error("QEMU guest agent is not running");
    },
  });
  return runStage(2, { config: cfg, api, configuredUrl: api.url, tls: {}, timeouts: defaultTimeouts });
}

const verdicts = (r: StageResult): Record<string, string> => Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));
const failedIds = (r: StageResult): string[] => r.checks.filter((c) => c.verdict === "failed").map((c) => c.id);
const check = (r: StageResult, id: string) => r.checks.find((c) => c.id === id)!;

describe("stage 2 on constructed states", () => {
  it("passes a healthy cluster: every check green", async () => {
    const r = await run(healthy());
    expect(r.checks.filter((c) => c.verdict !== "passed")).toEqual([]);
    expect(r.checks).toHaveLength(1 + 3 * 4 + 8);
  });

  it("a cluster without quorum fails only the quorum check", async () => {
    const c = healthy();
    c.status[0] = { ...c.status[0]!, quorate: 0 };
    const r = await run(c);
    expect(failedIds(r)).toEqual(["cluster.quorum"]);
    expect(check(r, "cluster.quorum").fix).toContain("pvecm");
  });

  it("an allowed node that is not a cluster member", async () => {
    const r = await run(healthy(), config({ allowedNodes: ["pve1", "pve9"] }));
    expect(check(r, "node.pve9.online")).toMatchObject({ verdict: "failed", reason: expect.stringContaining("not a member of this cluster (members: pve1, pve2, pve3)") });
    expect(check(r, "node.pve9.bridge")).toMatchObject({ verdict: "skipped", blockedBy: "node.pve9.online" });
  });

  it("a bridge that is not VLAN aware fails when a VLAN is configured", async () => {
    const c = healthy();
    c.network.pve2 = [{ iface: "vmbr0", type: "bridge", active: 1, bridge_vlan_aware: 0 }];
    expect(failedIds(await run(c))).toEqual([]);
    const r = await run(c, config({ vlan: 30 }));
    expect(failedIds(r)).toEqual(["node.pve2.bridge"]);
    expect(check(r, "node.pve2.bridge").fix).toContain("bridge-vlan-aware yes");
  });

  it("a VLAN outside the bridge's vids", async () => {
    const c = healthy();
    c.network.pve3 = [{ iface: "vmbr0", type: "bridge", active: 1, bridge_vlan_aware: 1, bridge_vids: "10 20-25" }];
    expect(failedIds(await run(c, config({ vlan: 22 })))).toEqual([]);
    expect(failedIds(await run(c, config({ vlan: 30 })))).toEqual(["node.pve3.bridge"]);
  });

  it("storage problems: disabled, wrong content, too little space", async () => {
    const c = healthy();
    c.storages.pve1 = [
      { storage: "local", type: "dir", content: "vztmpl,backup", enabled: 1, active: 1, avail: 80 * GiB },
      { storage: "ceph", type: "rbd", content: "images", enabled: 0, active: 0, shared: 1, avail: 900 * GiB },
    ];
    c.storages.pve2 = [
      { storage: "local", type: "dir", content: "iso", enabled: 1, active: 1, avail: 10 * 1024 ** 2 },
      { storage: "ceph", type: "rbd", content: "images", enabled: 1, active: 1, shared: 1, avail: 5 * GiB },
    ];
    const r = await run(c);
    expect(failedIds(r).sort()).toEqual(["node.pve1.disk-storage", "node.pve1.iso-storage", "node.pve2.disk-storage", "node.pve2.iso-storage"]);
    expect(check(r, "node.pve1.disk-storage").reason).toContain("it is disabled; it is not active");
    expect(check(r, "node.pve1.iso-storage").reason).toContain("lack 'iso'");
    expect(check(r, "node.pve2.disk-storage").reason).toContain("5 GiB free; one VM boot disk needs 20 GiB");
  });

  it("capmox would upload the ISO to another storage than isoStorage", async () => {
    const c = healthy();
    c.storages.pve3 = [{ storage: "nfs-iso", type: "nfs", content: "iso", enabled: 1, active: 1, shared: 1, avail: 50 * GiB }, ...c.storages.pve3!];
    const r = await run(c);
    expect(failedIds(r)).toEqual(["node.pve3.iso-storage"]);
    expect(check(r, "node.pve3.iso-storage").reason).toContain("which is nfs-iso, not local");
  });

  it("the template on another node than sourceNode", async () => {
    const c = healthy();
    c.resources[0] = { ...c.resources[0]!, node: "pve2" };
    const r = await run(c);
    expect(failedIds(r)).toEqual(["template.resolve"]);
    expect(check(r, "template.resolve").fix).toContain("set proxmox.template.sourceNode to pve2");
    expect(check(r, "template.cloud-init-drive")).toMatchObject({ verdict: "skipped", blockedBy: "template.resolve" });
  });

  it("template by tags resolves as capmox does", async () => {
    const c = healthy();
    const byTags = config({ template: { kind: "tags", tags: ["k8s-template"], matchPolicy: "exact" } });
    expect(failedIds(await run(c, byTags))).toEqual([]);
    c.resources.push({ id: "qemu/9001", type: "qemu", vmid: 9001, node: "pve2", template: 1, tags: "k8s-template" });
    const r = await run(c, byTags);
    expect(failedIds(r)).toEqual(["template.resolve"]);
    expect(check(r, "template.resolve").reason).toContain("2 templates match");
  });

  it("a VM that is not a template, a legacy boot order, a too large disk, local storage", async () => {
    const c = healthy();
    c.configs[9000] = { ...template, template: 0 };
    expect(failedIds(await run(c))).toEqual(["template.resolve"]);
    c.configs[9000] = { ...template, boot: "cdn" };
    expect(failedIds(await run(c))).toEqual(["template.boot-order"]);
    c.configs[9000] = { ...template, scsi0: "ceph:base-9000-disk-0,size=64G" };
    expect(failedIds(await run(c))).toEqual(["template.boot-disk"]);
    c.configs[9000] = { ...template, scsi0: "local:9000/base-9000-disk-0.qcow2,size=16G" };
    const r = await run(c);
    expect(failedIds(r)).toEqual(["template.clone-targets"]);
    expect(check(r, "template.clone-targets").reason).toContain("template disk scsi0 is on local storage local");
    expect(failedIds(await run(c, config({ allowedNodes: ["pve1"] })))).toEqual([]);
  });

  it("a template without the QEMU guest agent fails, naming the node groups capmox would wait for", async () => {
    const c = healthy();
    c.configs[9000] = { ...template, agent: "0" };
    const r = await run(c);
    expect(failedIds(r)).toEqual(["template.guest-agent"]);
    expect(check(r, "template.guest-agent").reason).toMatch(/QEMU guest agent off \(agent 0\); capmox waits .* tenant demo group workers would never be Provisioned/);
    expect(check(r, "template.guest-agent").fix).toContain("qm set 9000 --agent enabled=1");
  });

  it("a template without the agent passes when every node group skips capmox's agent checks", async () => {
    const c = healthy();
    c.configs[9000] = { ...template, agent: undefined };
    const base = config();
    const cfg = { ...base, tenants: base.tenants.map((t) => ({ ...t, nodeGroups: t.nodeGroups.map((g) => ({ ...g, guestAgentChecks: false })) })) };
    const r = await run(c, cfg);
    expect(check(r, "template.guest-agent")).toMatchObject({ verdict: "passed", detail: expect.stringContaining("guestAgentChecks: false") });
    expect(check(await run(healthy(), cfg), "template.guest-agent").verdict).toBe("passed");
  });

  it("a guest already using an address of the VM ranges", async () => {
    const c = healthy();
    c.resources.push({ id: "qemu/120", type: "qemu", vmid: 120, node: "pve2", name: "legacy-db", status: "running", template: 0 });
    c.configs[120] = { digest: "x", ipconfig0: "ip=10.0.0.150/24,gw=10.0.0.1" };
    const r = await run(c);
    expect(failedIds(r)).toEqual(["network.ip-ranges"]);
    expect(check(r, "network.ip-ranges").reason).toContain("10.0.0.150 used by VM 120 (legacy-db) on pve2 via ipconfig0");
  });

  it("an offline node fails its own check only; its dependents are skipped, everything else passes", async () => {
    const c = healthy();
    c.status = c.status.map((e) => (e.name === "pve3" ? { ...e, online: 0 } : e));
    c.offline.add("pve3");
    c.resources.push({ id: "qemu/130", type: "qemu", vmid: 130, node: "pve3", name: "app", status: "unknown", template: 0 });
    const r = await run(c);
    expect(failedIds(r)).toEqual(["node.pve3.online"]);
    const skipped = r.checks.filter((x) => x.verdict === "skipped");
    expect(skipped.map((x) => [x.id, x.blockedBy])).toEqual([
      ["node.pve3.bridge", "node.pve3.online"],
      ["node.pve3.disk-storage", "node.pve3.online"],
      ["node.pve3.iso-storage", "node.pve3.online"],
      ["network.ip-ranges", "node.pve3.online"],
    ]);
    expect(Object.values(verdicts(r)).filter((v) => v === "passed")).toHaveLength(r.checks.length - 5);
  });
});
describe("stage 2: the platform's Talos template (proxmox.talosTemplate)", () => {
  const talos: QemuConfig = { digest: "t", name: "talos-1.13", template: 1, boot: "order=scsi0", cpu: "x86-64-v2-AES", scsi0: "ceph:base-9100-disk-0,size=10G", net0: "virtio=BC:24:11:91:00:01,bridge=vmbr0" };
  function withTalos(config: QemuConfig): Cluster {
    const c = healthy();
    c.resources.push({ id: "qemu/9100", type: "qemu", vmid: 9100, node: "pve1", name: "talos-1.13", template: 1, tags: "talos" });
    c.configs[9100] = config;
    return c;
  }
  const talosConfig = (): PlatformConfig => config({ talosTemplate: { kind: "tags", tags: ["talos"], matchPolicy: "exact" } });

  it("is checked only when the config names one", async () => {
    expect((await run(healthy())).checks.map((c) => c.id)).not.toContain("template.talos");
  });

  it("passes a Talos template without a guest agent, saying Talos is not run through controllers here", async () => {
    const r = await run(withTalos(talos), talosConfig());
    expect(check(r, "template.talos")).toMatchObject({ verdict: "passed" });
    expect(check(r, "template.talos").detail).toMatch(/^tags talos → VM 9100 on pve1: a template with CPU x86-64-v2-AES, ide0 free .* no guest agent needed .* not run through controllers here \(the Talos bootstrap provider is not served as a Go module\)$/);
    expect(r.checks.filter((c) => c.verdict !== "passed")).toEqual([]);
  });

  it("fails a template Talos cannot boot from: PVE's default CPU (x86-64 level 1), a cloud-init drive on ide0, a legacy boot order", async () => {
    const { cpu: _cpu, ...noCpu } = talos;
    const r = await run(withTalos({ ...noCpu, ide0: "ceph:vm-9100-cloudinit,media=cdrom", boot: "cdn" }), talosConfig());
    const c = check(r, "template.talos");
    expect(c.verdict).toBe("failed");
    expect(c.reason).toContain("Talos template 9100 on pve1: its CPU type is kvm64 (PVE's default), x86-64 level 1: Talos halts at boot");
    expect(c.reason).toContain("a PVE cloud-init drive on ide0");
    expect(c.reason).toContain("legacy boot syntax 'cdn'");
    expect(c.fix).toContain("qm set 9100 --cpu x86-64-v2-AES");
    // only the Talos check fails: the kubeadm template is fine
    expect(failedIds(r)).toEqual(["template.talos"]);
  });

  it("fails a Talos template capmox would not find, in capmox's terms", async () => {
    const r = await run(healthy(), config({ talosTemplate: { kind: "id", templateId: 9100, sourceNode: "pve1" } }));
    expect(check(r, "template.talos")).toMatchObject({ verdict: "failed", reason: expect.stringContaining("there is no VM 9100 in the cluster") });
  });

  it("cpuModel reads PVE's cpu option", () => {
    expect([undefined, "host", "cputype=kvm64,flags=+aes", "x86-64-v2-AES", "flags=+aes"].map(cpuModel)).toEqual(["kvm64", "host", "kvm64", "x86-64-v2-AES", "kvm64"]);
  });
});
