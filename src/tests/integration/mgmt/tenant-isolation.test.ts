/**
 * Tenant isolation against the real capmox: two tenants, each with its own pool, VMID range
 * and privilege-separated token made by the tenant-access plan, get their VMs from the real
 * controllers in their own pools and ranges, cloned with their own tokens. capmox bug #856
 * made to happen (tenant A's ProxmoxMachine pointed at a VMID of tenant B, then deleted): the
 * lab refuses A's token with PVE's 403 and B loses nothing. A tenant that cannot fit is
 * reported by stage 2 before any clone. Stages 3 and 4 pass with a tenant's own token.
 */
import { expect, test } from "vitest";
import { tenantObjects } from "../../../capi/index.js";
import { defaultConfig, defaultNodeGroup, defaultTenant, type PlatformConfig } from "../../../config/index.js";
import { waitForList, type KubeObject } from "../../../kube/index.js";
import { defaultScenario, timingPresets } from "../../../lab/index.js";
import type { MgmtEnv } from "../../../mgmt/index.js";
import { resolveTimeouts, runStage, type StageResult } from "../../../stages/index.js";
import { describeMgmt, labApi, useMgmtEnv } from "../../support/mgmt-env.js";

const capi = "cluster.x-k8s.io/v1beta1";
const capmox = "infrastructure.cluster.x-k8s.io/v1alpha1";

function isolatedConfig(env: MgmtEnv): PlatformConfig {
  const base = defaultConfig();
  const group = { ...defaultNodeGroup("workers"), replicas: 1, minReplicas: 1, maxReplicas: 3 };
  return {
    ...base,
    proxmox: { ...base.proxmox, url: env.lab.url, tokenId: env.labCredentials.tokenId, tls: { insecure: false, fingerprint: env.labCredentials.fingerprint } },
    tenants: [
      {
        ...defaultTenant("alpha", "v1.32.6"),
        nodeGroups: [group],
        addressRanges: [{ start: "10.0.0.100", end: "10.0.0.149" }],
        proxmox: { pool: "cozy-alpha", vmIdRange: { start: 1000, end: 1009 }, tokenId: "cozy-alpha@pve!capmox", secret: { env: "ALPHA_SECRET" } },
      },
      {
        ...defaultTenant("beta", "v1.32.6"),
        nodeGroups: [group],
        addressRanges: [{ start: "10.0.0.150", end: "10.0.0.199" }],
        proxmox: { pool: "cozy-beta", vmIdRange: { start: 1010, end: 1019 }, tokenId: "cozy-beta@pve!capmox", secret: { env: "BETA_SECRET" } },
      },
    ],
  };
}

const running = (m: KubeObject): boolean => (m["status"] as { phase?: string } | undefined)?.phase === "Running" && Boolean((m["status"] as { nodeRef?: unknown }).nodeRef);
const phases = (items: readonly KubeObject[]): string => items.map((m) => `${m.metadata.name} ${(m["status"] as { phase?: string } | undefined)?.phase ?? "?"}`).join(", ") || "none";
const tenantVms = (env: MgmtEnv, pool: string) => [...env.lab.state.vms.values()].filter((vm) => vm.pool === pool);
const createdVms = (env: MgmtEnv) => [...env.lab.state.vms.values()].filter((vm) => vm.config["template"] !== "1");

async function apply(env: MgmtEnv, config: PlatformConfig, tenant: string): Promise<void> {
  for (const object of tenantObjects(config).get(`${tenant}.yaml`) ?? []) await env.kube.client.apply(object as unknown as KubeObject, { fieldManager: "kubectl" });
}

async function deleteTenant(env: MgmtEnv, name: string): Promise<void> {
  await env.kube.client.delete({ apiVersion: capi, kind: "Cluster", name, namespace: `tenant-${name}` });
}

describeMgmt("tenants isolated on Proxmox, against the real capmox", () => {
  // Lab tasks end at once: no test here measures the lab's timing, and capmox, finding a task
  // still running, looks again only after its 10 s requeue (each clone, resize and start).
  const env = useMgmtEnv({ scenario: { ...defaultScenario(), timing: timingPresets["instant"]! } });
  let secrets: Record<string, string> = {};

  test("each tenant's VMs in its own pool and range, cloned with its own token; A pointed at B's VMID is refused with PVE's 403 and B loses nothing", async () => {
    const config = isolatedConfig(env());
    secrets = await env().prepareTenants(config);
    expect(Object.keys(secrets).sort()).toEqual(["alpha", "beta"]);
    try {
      await apply(env(), config, "alpha");
      await apply(env(), config, "beta");
      for (const name of ["alpha", "beta"]) {
        await waitForList(env().kube.client, capi, "Machine", { namespace: `tenant-${name}` }, (items) => items.length === 1 && items.every(running), { timeoutMs: 300_000, describe: phases });
      }
      const [a] = tenantVms(env(), "cozy-alpha");
      const [b] = tenantVms(env(), "cozy-beta");
      expect(a && a.vmid >= 1000 && a.vmid <= 1009, `alpha's VM ${a?.vmid}`).toBe(true);
      expect(b && b.vmid >= 1010 && b.vmid <= 1019, `beta's VM ${b?.vmid}`).toBe(true);
      expect(createdVms(env())).toHaveLength(2);
      // cloned by each tenant's own token, as the clone tasks' owners show
      const clones = [...new Set([...env().lab.state.tasks.values()].filter((t) => t.type === "qmclone").map((t) => t.authid))].sort();
      expect(clones).toEqual(["cozy-alpha@pve!capmox", "cozy-beta@pve!capmox"]);

      // #856: alpha's ProxmoxMachine holds a VMID that is beta's, and is deleted
      const [pm] = (await env().kube.client.list(capmox, "ProxmoxMachine", { namespace: "tenant-alpha" })).items;
      const own = (pm!["spec"] as { virtualMachineID: number }).virtualMachineID;
      expect(own).toBe(a!.vmid);
      const point = (vmid: number) =>
        env().kube.client.apply({ apiVersion: capmox, kind: "ProxmoxMachine", metadata: { name: pm!.metadata.name, namespace: "tenant-alpha" }, spec: { virtualMachineID: vmid } } as KubeObject, { fieldManager: "cozy-proxmox-test-856" });
      await point(b!.vmid);
      await env().kube.client.delete({ apiVersion: capmox, kind: "ProxmoxMachine", name: pm!.metadata.name, namespace: "tenant-alpha" });
      const refusal = new RegExp(`^lab: 403 \\S+ /api2/json/nodes/\\S+/qemu/${b!.vmid}\\S*: Permission check failed \\(/vms/${b!.vmid}, VM\\.\\w+\\)$`);
      const deadline = Date.now() + 120_000;
      while (!env().lab.log.some((l) => refusal.test(l))) {
        if (Date.now() > deadline) throw new Error(`no 403 for VM ${b!.vmid} in the lab log:\n${env().lab.log.slice(-30).join("\n")}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      console.log(`[isolation] ${env().lab.log.find((l) => refusal.test(l))}`);
      // B lost nothing: its VM is there and running, its Machine still Running
      expect(env().lab.state.vms.get(b!.vmid)?.status).toBe("running");
      expect(env().lab.state.vms.get(b!.vmid)?.pool).toBe("cozy-beta");
      const betaMachines = await env().kube.client.list(capi, "Machine", { namespace: "tenant-beta" });
      expect(betaMachines.items.every(running)).toBe(true);
      // back to its own VMID: capmox deletes alpha's VM, and the ProxmoxMachine goes
      await point(own);
      await waitForList(env().kube.client, capmox, "ProxmoxMachine", { namespace: "tenant-alpha" }, (items) => !items.some((p) => p.metadata.name === pm!.metadata.name), { timeoutMs: 120_000, describe: (items) => items.map((p) => p.metadata.name).join(", ") });
      expect(env().lab.state.vms.has(b!.vmid)).toBe(true);
    } finally {
      await deleteTenant(env(), "alpha");
      await deleteTenant(env(), "beta");
      const deadline = Date.now() + 180_000;
      while (createdVms(env()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(createdVms(env())).toEqual([]);
  }, 900_000);

  test("a tenant that does not fit is reported by stage 2 with the numbers, before any clone", async () => {
    const base = isolatedConfig(env());
    const huge: PlatformConfig = { ...base, tenants: [base.tenants[0]!, { ...base.tenants[1]!, nodeGroups: [{ ...defaultNodeGroup("huge"), replicas: 4, minReplicas: 4, maxReplicas: 8, memoryMiB: 32768 }] }] };
    const lab = env().labCredentials;
    const api = labApi(env());
    const clonesBefore = [...env().lab.state.tasks.values()].filter((t) => t.type === "qmclone").length;
    try {
      const two = await runStage(2, { config: huge, api, configuredUrl: lab.url, tls: { fingerprint: lab.fingerprint }, timeouts: resolveTimeouts({}), secrets: [lab.secret] });
      const placement = two.checks.find((c) => c.id === "tenants.placement")!;
      expect(placement.verdict).toBe("failed");
      expect(placement.reason).toContain("tenant beta, worst case 9 machines (huge 8+1): 294912 MiB, 18 vCPUs, 180 GiB: ");
      expect(placement.reason).toMatch(/of group huge's machines \(32768 MiB each\) fit on no allowed node: the most left is \d+ MiB on pve\d/);
      expect(placement.reason).not.toContain("tenant alpha");
    } finally {
      api.close();
    }
    expect([...env().lab.state.tasks.values()].filter((t) => t.type === "qmclone")).toHaveLength(clonesBefore);
  }, 120_000);

  test("stages 3 and 4 pass with a tenant's own token: the test tenant lives in its pool and range", async () => {
    const config = isolatedConfig(env());
    if (Object.keys(secrets).length === 0) secrets = await env().prepareTenants(config);
    const lab = env().labCredentials;
    const api = labApi(env());
    const run = (stage: 3 | 4): Promise<StageResult> =>
      runStage(stage, {
        config,
        api,
        configuredUrl: lab.url,
        tls: { fingerprint: lab.fingerprint },
        timeouts: resolveTimeouts({ "poll.task": 50, "poll.retry": 50 }),
        secrets: [lab.secret, ...Object.values(secrets)],
        management: { client: env().kube.client, tokenSecret: lab.secret, caPem: lab.caPem, tenantTokenSecrets: secrets },
      });
    const clonesBefore = [...env().lab.state.tasks.values()].filter((t) => t.type === "qmclone").length;
    try {
      const three = await run(3);
      expect(three.checks.filter((c) => c.verdict !== "passed").map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
      const four = await run(4);
      expect(four.checks.filter((c) => c.verdict !== "passed" && c.id !== "workers.ccm-taint").map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
    } finally {
      api.close();
    }
    const clones = [...env().lab.state.tasks.values()].filter((t) => t.type === "qmclone").slice(clonesBefore);
    expect(clones.length).toBeGreaterThan(0);
    expect([...new Set(clones.map((t) => t.authid))]).toEqual(["cozy-alpha@pve!capmox"]);
    expect(createdVms(env())).toEqual([]);
  }, 900_000);
});
