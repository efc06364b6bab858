/**
 * Stage 8 — the tenant lifecycle a CozyStack user lives through: create a tenant cluster by
 * its `Kubernetes` object, see its workers join as Ready Nodes, run a workload with a PVC in
 * it, delete the object, and find nothing left in the management cluster or in Proxmox.
 *
 * Where the tenant's Nodes cannot run pods (the management environment's kubelet stand-in),
 * the workload check says "not runnable here" and why: decided from the tenant cluster.
 */
import { csiStorageClass } from "../../cozystack/index.js";
import { conditionIs, waitFor, waitForList, WaitTimeoutError, type ApiResource, type KubeClient, type KubeObject } from "../../kube/index.js";
import type { StageContext } from "../input.js";
import { fail, pass, skip, type CheckOutcome } from "../model.js";
import type { CheckSpec } from "../runner.js";
import { alive, containerImages, healthy, imageVersion, localControllers, managementChecks } from "../stage3/index.js";
import { csiProvisioner, judgeController, Stage5Run, stage5Checks } from "../stage5/index.js";
import { formatDuration, timeLeft } from "../timeouts.js";
import { judgeApi, judgeGone, judgeNodes, judgeRelease, workloadNotRunnable, type ControllerState, type MachineVm } from "./judge.js";
import { Stage8Run } from "./run.js";

export { Stage8Run, stage8Workers } from "./run.js";

/** Discovery of a kind; undefined when the server does not serve it (other errors propagate). */
async function served(client: KubeClient, apiVersion: string, kind: string): Promise<ApiResource | undefined> {
  try {
    return await client.resource(apiVersion, kind);
  } catch (error) {
    if (/does not serve kind/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** helm-controller: the environment's local process, else a Deployment of its image, Available. */
export async function helmControllerState(client: KubeClient): Promise<ControllerState> {
  const local = await localControllers(client);
  if (local) {
    const entry = local.find((c) => c.name === "helm-controller");
    if (!entry) return { ok: false, problem: "the environment runs no helm-controller (restart it with `npm run mgmt:up`, which runs Flux)" };
    if (!alive(entry.pid)) return { ok: false, problem: `helm-controller (pid ${entry.pid}) is not running` };
    if (!(await healthy(entry.healthUrl))) return { ok: false, problem: `helm-controller does not answer on ${entry.healthUrl}` };
    return { ok: true, where: `${entry.version} (a local process, healthy)` };
  }
  const deployments = (await client.list("apps/v1", "Deployment")).items.filter((d) => containerImages(d).some((i) => /\/helm-controller:/.test(i)));
  const deployment = deployments[0];
  if (!deployment) return { ok: false, problem: "no Deployment runs Flux's helm-controller" };
  const image = containerImages(deployment).find((i) => /\/helm-controller:/.test(i)) ?? "";
  const where = `${deployment.metadata.namespace}/${deployment.metadata.name} (${imageVersion(image)})`;
  return conditionIs("Available")(deployment) ? { ok: true, where: `Deployment ${where} Available` } : { ok: false, problem: `Deployment ${where} is not Available` };
}

async function api(s: Stage8Run): Promise<CheckOutcome> {
  const [application, helmRelease, controller] = await Promise.all([
    served(s.client, s.appRef.apiVersion, s.appRef.kind),
    served(s.client, s.releaseRef.apiVersion, s.releaseRef.kind),
    helmControllerState(s.client),
  ]);
  return judgeApi(application, helmRelease, controller);
}

async function create(ctx: StageContext, s: Stage8Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  await s.apply(ctx.api);
  const release = await s.waitRelease(timeLeft(ctx.input.timeouts["lifecycle.create"], started), signal);
  const outcome = judgeRelease(release, { namespace: s.releaseRef.namespace ?? "", name: s.releaseRef.name }, Math.round(performance.now() - started));
  if (outcome.verdict !== "passed") return outcome;
  const pool = s.tenant.tenant.addressRanges?.map((r) => r.start).join(", ") ?? "";
  return pass(`Kubernetes ${s.tenant.namespace}/${s.tenant.name} applied (${s.workers} workers, addresses ${pool}); ${outcome.detail ?? ""}`, outcome.figures);
}

const nodeRefOf = (machine: KubeObject): string => (machine["status"] as { nodeRef?: { name?: string } } | undefined)?.nodeRef?.name ?? "";

async function nodes(ctx: StageContext, s: Stage8Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["capi.join"];
  const joinFix = "look at the tenant's CSRs and Nodes (kubectl --kubeconfig <tenant> get csr,nodes) and at capmox's conditions on the ProxmoxMachines; on a real VM, /var/log/cloud-init-output.log";
  let machines;
  let tenantNodes: KubeObject[];
  try {
    machines = await s.tenantRun.waitProvisioned(s.workers, timeLeft(limit, started), signal, true);
    // A nodeRef means the Node exists; Ready may follow (the CNI add-on comes up after the first Node).
    const names = new Set(machines.map((m) => nodeRefOf(m.machine)));
    const tenant = await s.tenantClient();
    const ready = (items: readonly KubeObject[]): boolean => [...names].every((n) => items.some((i) => i.metadata.name === n && conditionIs("Ready")(i)));
    const describe = (items: readonly KubeObject[]): string => items.map((i) => `${i.metadata.name} ${conditionIs("Ready")(i) ? "Ready" : "NotReady"}`).join(", ") || "no Nodes";
    tenantNodes = await waitForList(tenant, "v1", "Node", {}, ready, { timeoutMs: timeLeft(limit, started), signal, describe });
  } catch (error) {
    if (error instanceof WaitTimeoutError) return fail(error.message, joinFix);
    throw error;
  }
  const ms = Math.round(performance.now() - (s.appliedAt ?? started));
  const vms = await s.tenantRun.vms(ctx.api);
  const withVms: MachineVm[] = [];
  for (const m of machines) {
    const vmid = (m.proxmoxMachine?.["spec"] as { virtualMachineID?: number } | undefined)?.virtualMachineID;
    const vm = vms.find((v) => v.vmid === vmid);
    const config = vm?.vmid !== undefined && vm.node ? await ctx.api.vmConfig(vm.node, vm.vmid) : undefined;
    withVms.push({ machine: m.machine, smbios1: config?.smbios1 });
  }
  return judgeNodes(withVms, tenantNodes, s.tenant.tenant.version, s.workers, ms);
}

/** Stage 5's checks that make a PVC, write it from one pod, read it from another, and delete it. */
const workloadSteps: readonly string[] = ["csi.storageclass", "csi.bound", "csi.write-read", "csi.attached", "csi.delete"];

/** Waits for the CSI plugin the app chart installs into the tenant (an add-on that comes up after the Nodes). */
async function csiUp(tenant: KubeClient, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const ref = { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", name: csiProvisioner };
  const seen = await waitFor(tenant, [ref], (o) => o !== undefined, { timeoutMs, signal, describe: () => `no CSIDriver ${csiProvisioner}` });
  const driver = [...seen.values()][0];
  const describe = (items: readonly KubeObject[]): string => {
    const outcome = judgeController(driver, items);
    return outcome.verdict === "failed" ? outcome.reason : "available";
  };
  await waitForList(tenant, "apps/v1", "Deployment", {}, (items) => judgeController(driver, items).verdict === "passed", { timeoutMs: timeLeft(timeoutMs, started, 0), signal, describe });
}

async function workload(ctx: StageContext, s: Stage8Run, signal: AbortSignal): Promise<CheckOutcome> {
  const tenant = await s.tenantClient();
  const tenantNodes = (await tenant.list("v1", "Node")).items;
  const driver = await tenant.get({ apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", name: csiProvisioner });
  const reason = workloadNotRunnable(tenantNodes, driver);
  if (reason) return skip(reason);
  const started = performance.now();
  try {
    await csiUp(tenant, ctx.input.timeouts["workload.ready"], signal);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    return fail(
      `the Proxmox CSI plugin did not come up in the new tenant within ${formatDuration(ctx.input.timeouts["workload.ready"])}: ${error.message}`,
      `kubectl -n ${s.tenant.namespace} get helmrelease: the tenant's proxmox-csi release and its pods in the tenant cluster name the cause`,
    );
  }
  const run = new Stage5Run({
    client: tenant,
    source: `Secret ${s.tenant.namespace}/${s.tenant.name}-kubeconfig`,
    storageClass: csiStorageClass,
    runId: s.tenant.runId,
    ...(s.probeImage ? { probeImage: s.probeImage } : {}),
  });
  s.workload = run;
  for (const step of stage5Checks(run).filter((c) => workloadSteps.includes(c.id))) {
    const outcome = await step.run(ctx, signal);
    if (outcome.verdict === "failed") return fail(`${step.id} (${step.title}): ${outcome.reason}`, outcome.fix);
    if (outcome.verdict === "skipped") return fail(`${step.id} (${step.title}) did not run: ${outcome.reason}`, "rerun the stage");
  }
  const ms = Math.round(performance.now() - started);
  return pass(
    `in the new tenant a PVC of StorageClass ${csiStorageClass} bound, one pod wrote it, another read it back on its VM's attached disk, and deleting it removed the disk (stage 5's ${workloadSteps.join(", ")}) in ${formatDuration(ms)}`,
    { workloadMs: ms },
  );
}

async function remove(ctx: StageContext, s: Stage8Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const p = ctx.config.proxmox;
  // Remember the VMIDs first: the ISO check looks for `user-data-<vmid>.iso` after the VMs are gone.
  const vmCount = (await s.tenantRun.vms(ctx.api)).length;
  let times;
  try {
    times = await s.deleteApp(timeLeft(ctx.input.timeouts["capi.delete"], started), signal);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
  }
  const deleteMs = Math.round(performance.now() - started);
  const remains = await s.remains(ctx.api, p.isoStorage, p.allowedNodes);
  return judgeGone(remains, vmCount, { deleteMs, ...(times ?? {}) });
}

/** The checks of stage 8, sharing one run. */
export function stage8Checks(s: Stage8Run): CheckSpec<StageContext>[] {
  return [
    ...managementChecks(s.tenantRun),
    { id: "lifecycle.api", title: "the Kubernetes kind and Flux's HelmRelease are served, helm-controller runs", run: () => api(s) },
    {
      id: "lifecycle.create",
      title: `a Kubernetes object for a test tenant of ${s.workers} worker(s) becomes an installed HelmRelease`,
      needs: ["capi.controllers", "capi.crds", "lifecycle.api"],
      timeout: "lifecycle.create",
      run: (ctx, signal) => create(ctx, s, signal),
    },
    { id: "lifecycle.nodes", title: `${s.workers} Machine(s) Running, their Nodes Ready in the tenant cluster`, needs: ["lifecycle.create"], timeout: "capi.join", run: (ctx, signal) => nodes(ctx, s, signal) },
    { id: "lifecycle.workload", title: "a workload with a PVC runs in the tenant cluster", needs: ["lifecycle.nodes"], timeout: "lifecycle.workload", run: (ctx, signal) => workload(ctx, s, signal) },
    {
      id: "lifecycle.delete",
      title: "deleting the Kubernetes object removes its HelmRelease, Cluster API objects, VMs and ISOs",
      needs: ["lifecycle.create"],
      timeout: "capi.delete",
      run: (ctx, signal) => remove(ctx, s, signal),
    },
  ];
}
