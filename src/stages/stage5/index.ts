/**
 * Stage 5 — CSI storage, in the tenant cluster whose workers are Proxmox VMs: the Proxmox
 * CSI plugin runs, Nodes carry region/zone, the StorageClass is there; then a test PVC
 * binds, one pod writes it and a second reads it back, the disk is found in Proxmox on the
 * VM of the reader's Node, and deleting the PVC removes the disk from Proxmox.
 */
import { randomBytes } from "node:crypto";
import { type KubeObject, type ObjectRef, waitFor, WaitTimeoutError } from "../../kube/index.js";
import type { ProxmoxApi, QemuConfig } from "../../proxmox/index.js";
import type { StageContext } from "../input.js";
import { fail, pass, type CheckOutcome } from "../model.js";
import type { CheckSpec } from "../runner.js";
import { formatDuration, timeLeft } from "../timeouts.js";
import { defaultProbeImage, defaultStorageClass, type TenantInput } from "../tenant/input.js";
import { TestObjects } from "../tenant/objects.js";
import { describePod, podEnded, podReadyOrEnded } from "../tenant/pods.js";
import { vmOfNode } from "../tenant/vms.js";
import { csiReader, csiWorkload, testNamespace } from "../workloads/index.js";
import {
  csiProvisioner,
  judgeAttached,
  judgeBound,
  judgeController,
  judgeDiskGone,
  judgeNodePlugin,
  judgeStorageClass,
  judgeTopology,
  judgeWriteRead,
  type VolumeHandle,
} from "./checks.js";

export { csiProvisioner, judgeController } from "./checks.js";

/** What stage 5's checks share. */
export class Stage5Run {
  readonly objects: TestObjects;
  readonly storageClass: string;
  readonly token = randomBytes(12).toString("hex");
  readonly namespace: string;
  pvName: string | undefined;
  handle: VolumeHandle | undefined;
  /** The VM the disk was attached to (for the deletion check). */
  attachedTo: { vmid: number; pveNode: string } | undefined;
  private deleted = false;

  constructor(readonly tenant: TenantInput) {
    this.objects = new TestObjects(tenant.client, 5, tenant.probeImage ?? defaultProbeImage, tenant.runId);
    this.storageClass = tenant.storageClass ?? defaultStorageClass;
    this.namespace = this.objects.namespaceName();
  }

  get client(): TenantInput["client"] {
    return this.tenant.client;
  }

  pvc(): ObjectRef {
    return { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: this.namespace, name: "stage5-data" };
  }

  pod(name: string): ObjectRef {
    return { apiVersion: "v1", kind: "Pod", namespace: this.namespace, name };
  }

  markDeleted(): void {
    this.deleted = true;
  }

  /**
   * For the finally of the stage: deletes the namespace (pods, PVC); when the volume was not
   * deleted by its check, waits for the PV to go and checks the disk is gone from Proxmox.
   */
  async cleanup(api: ProxmoxApi, timeoutMs: number): Promise<string[]> {
    const started = performance.now();
    const problems = await this.objects.cleanup(timeoutMs);
    if (this.deleted || !this.pvName || !this.handle) return problems;
    const pv: ObjectRef = { apiVersion: "v1", kind: "PersistentVolume", name: this.pvName };
    try {
      await waitFor(this.client, [pv], (o) => o === undefined, { timeoutMs: timeLeft(timeoutMs, started, 0) });
    } catch (error) {
      problems.push(`PV ${this.pvName} is still there (${(error as Error).message}); delete it with kubectl delete pv ${this.pvName}`);
      return problems;
    }
    const gone = await diskGone(api, this.handle, this.attachedTo).catch((e: unknown) => fail(`cannot read Proxmox: ${(e as Error).message}`, ""));
    if (gone.verdict === "failed") problems.push(gone.reason);
    return problems;
  }
}

async function diskGone(api: ProxmoxApi, handle: VolumeHandle, vm: { vmid: number; pveNode: string } | undefined): Promise<CheckOutcome> {
  const node = handle.zone || vm?.pveNode;
  const volumes = node ? await api.storageContent(node, handle.storage, { content: "images" }) : [];
  const configs: Array<{ vmid: number; config: QemuConfig }> = vm ? [{ vmid: vm.vmid, config: await api.vmConfig(vm.pveNode, vm.vmid) }] : [];
  return judgeDiskGone(handle, volumes, configs);
}

async function controller(s: Stage5Run): Promise<CheckOutcome> {
  const driver = await s.client.get({ apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", name: csiProvisioner });
  const deployments = (await s.client.list("apps/v1", "Deployment")).items;
  return judgeController(driver, deployments);
}

async function nodePlugin(s: Stage5Run): Promise<CheckOutcome> {
  const [daemonSets, nodes, csiNodes] = await Promise.all([
    s.client.list("apps/v1", "DaemonSet"),
    s.client.list("v1", "Node"),
    s.client.list("storage.k8s.io/v1", "CSINode"),
  ]);
  return judgeNodePlugin(daemonSets.items, nodes.items, csiNodes.items);
}

async function topology(ctx: StageContext, s: Stage5Run): Promise<CheckOutcome> {
  const nodes = (await s.client.list("v1", "Node")).items;
  const pveNodes = (await ctx.clusterStatus()).filter((e) => e.type === "node").map((e) => e.name);
  return judgeTopology(nodes, ctx.config.proxmox.region, pveNodes);
}

async function storageClass(ctx: StageContext, s: Stage5Run): Promise<CheckOutcome> {
  const sc = await s.client.get({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", name: s.storageClass });
  const storages = (await ctx.api.storages()).filter((c) => (c.content ?? "").split(",").includes("images") && c.disable !== 1).map((c) => c.storage);
  return judgeStorageClass(sc, s.storageClass, storages);
}

async function bound(ctx: StageContext, s: Stage5Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["csi.bind"];
  const base = s.objects.base(s.namespace);
  const workload = csiWorkload(base, s.storageClass, s.token);
  await s.objects.apply([...testNamespace(base), ...workload.objects]);
  // WaitForFirstConsumer binds when the writer is scheduled: wait for Bound, or for the writer to give up.
  try {
    const pvcBound = (o: KubeObject | undefined): boolean => (o?.["status"] as { phase?: string } | undefined)?.phase === "Bound";
    await waitFor(s.client, [s.pvc()], pvcBound, { timeoutMs: timeLeft(limit, started), signal, describe: (o) => `phase ${(o?.["status"] as { phase?: string } | undefined)?.phase ?? "missing"}` });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const writer = await s.client.get(s.pod(workload.writer));
    return fail(`the test PVC was not Bound within ${formatDuration(limit)}: ${error.message}; ${describePod(writer, workload.writer)}`, `kubectl -n ${s.namespace} describe pvc stage5-data: the provisioner's events name the Proxmox error (token privileges, storage, topology)`);
  }
  const pvc = await s.client.get(s.pvc());
  const volumeName = (pvc?.["spec"] as { volumeName?: string } | undefined)?.volumeName;
  const pv = volumeName ? await s.client.get({ apiVersion: "v1", kind: "PersistentVolume", name: volumeName }) : undefined;
  s.pvName = volumeName;
  const judged = judgeBound(pvc, pv, ctx.config.proxmox.region);
  s.handle = judged.handle;
  const ms = Math.round(performance.now() - started);
  if (judged.outcome.verdict !== "passed") return judged.outcome;
  return pass(`${judged.outcome.detail ?? ""} after ${formatDuration(ms)}`, { boundMs: ms });
}

async function writeRead(ctx: StageContext, s: Stage5Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["csi.pod"];
  const base = s.objects.base(s.namespace);
  const wait = (name: string, until: (o: KubeObject | undefined) => boolean): Promise<KubeObject | undefined> => s.objects.waitPod(s.namespace, name, until, timeLeft(limit, started), signal);
  let writer: KubeObject | undefined;
  let reader: KubeObject | undefined;
  try {
    writer = await wait("stage5-writer", podEnded);
    // The reader starts only after the writer ended, so the volume goes from one pod to the next.
    await s.objects.apply(csiReader(base, "stage5-data", s.token));
    reader = await wait("stage5-reader", podReadyOrEnded);
  } catch (error) {
    if (error instanceof WaitTimeoutError) return fail(`${error.message}`, `kubectl -n ${s.namespace} describe pods: attach and mount events come from the CSI plugin`);
    throw error;
  }
  return judgeWriteRead(writer, reader, s.token);
}

async function attached(ctx: StageContext, s: Stage5Run): Promise<CheckOutcome> {
  const reader = await s.client.get(s.pod("stage5-reader"));
  const nodeName = (reader?.["spec"] as { nodeName?: string } | undefined)?.nodeName;
  if (!nodeName || !s.handle) return fail("the reader pod has no node", "rerun; the pod was deleted under the check");
  const node = await s.client.get({ apiVersion: "v1", kind: "Node", name: nodeName });
  if (!node) return fail(`Node ${nodeName} of the reader pod is gone`, "rerun");
  const vm = await vmOfNode(ctx.api, node, await ctx.vmResources());
  s.attachedTo = { vmid: vm.vmid, pveNode: vm.pveNode };
  const volumes = await ctx.api.storageContent(s.handle.zone || vm.pveNode, s.handle.storage, { content: "images" });
  return judgeAttached(s.handle, vm, volumes, nodeName);
}

async function deleted(ctx: StageContext, s: Stage5Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["csi.delete"];
  if (!s.pvName || !s.handle) return fail("the bound PV is unknown", "rerun");
  const pv: ObjectRef = { apiVersion: "v1", kind: "PersistentVolume", name: s.pvName };
  try {
    // The PVC stays (kubernetes.io/pvc-protection) while a pod uses it: pods first.
    await s.objects.deleteAndWait([s.pod("stage5-reader"), s.pod("stage5-writer")], timeLeft(limit, started), signal);
    await s.objects.deleteAndWait([s.pvc()], timeLeft(limit, started), signal);
    await waitFor(s.client, [pv], (o) => o === undefined, {
      timeoutMs: timeLeft(limit, started),
      signal,
      describe: (o) => `phase ${(o?.["status"] as { phase?: string; message?: string } | undefined)?.phase ?? "?"} ${(o?.["status"] as { message?: string } | undefined)?.message ?? ""}`.trim(),
    });
  } catch (error) {
    if (error instanceof WaitTimeoutError) return fail(`after the PVC was deleted: ${error.message}`, `kubectl describe pv ${s.pvName}: the provisioner's DeleteVolume error names the Proxmox call that failed`);
    throw error;
  }
  s.markDeleted();
  const ms = Math.round(performance.now() - started);
  const outcome = await diskGone(ctx.api, s.handle, s.attachedTo);
  if (outcome.verdict !== "passed") return outcome;
  return pass(`PVC and PV deleted after ${formatDuration(ms)}; ${outcome.detail ?? ""}`, { deleteMs: ms });
}

/** The checks of stage 5, sharing one run. */
export function stage5Checks(s: Stage5Run): CheckSpec<StageContext>[] {
  return [
    { id: "csi.controller", title: "CSI driver registered, controller available", run: () => controller(s) },
    { id: "csi.node", title: "CSI node plugin ready and registered on every Node", run: () => nodePlugin(s) },
    { id: "csi.topology", title: "Nodes carry topology region/zone of this Proxmox cluster", run: (ctx) => topology(ctx, s) },
    { id: "csi.storageclass", title: `StorageClass ${s.storageClass} present, on a Proxmox storage for disks`, run: (ctx) => storageClass(ctx, s) },
    { id: "csi.bound", title: "a test PVC binds to a Proxmox volume", needs: ["csi.controller", "csi.storageclass"], timeout: "csi.bind", run: (ctx, signal) => bound(ctx, s, signal) },
    { id: "csi.write-read", title: "a pod writes the volume, a second pod reads the data back", needs: ["csi.bound", "csi.node"], timeout: "csi.pod", run: (ctx, signal) => writeRead(ctx, s, signal) },
    { id: "csi.attached", title: "the disk exists in Proxmox and is attached to the pod's VM", needs: ["csi.write-read", "csi.topology"], run: (ctx) => attached(ctx, s) },
    { id: "csi.delete", title: "deleting the PVC removes the disk in Proxmox", needs: ["csi.bound"], timeout: "csi.delete", run: (ctx, signal) => deleted(ctx, s, signal) },
  ];
}
