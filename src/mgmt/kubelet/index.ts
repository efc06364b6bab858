/**
 * The management environment's kubelet stand-ins (kubelet.ts): there is no VM to run a
 * kubelet in, so one runs here per running lab VM whose cloud-init ISO (ide0, as capmox
 * attaches it) carries a kubeadm join. Told by the lab's VM events: started when the VM
 * starts, stopped when it stops, hangs or is destroyed, or the environment stops. Nothing
 * else in the project creates Nodes.
 */
import type { LabState, LabVm, VmEvent } from "../../lab/index.js";
import { readSeed } from "./cloud-init.js";
import { joinOf, runKubelet, type KubeletVm } from "./kubelet.js";

export { registration, spkiPin, joinOf, JoinError, type KubeletVm, type NodeRegistration } from "./kubelet.js";
export { readSeed, renderJinja, jinjaVariables, kubeadmJoinConfig, networkAddresses, CloudInitError, type NoCloudSeed } from "./cloud-init.js";
export { parseJoinConfig, unquoteWord, type JoinConfig } from "./join.js";

/** `local:iso/user-data-101.iso,media=cdrom` → `local:iso/user-data-101.iso`. */
function isoVolume(vm: LabVm): string | undefined {
  const ide0 = vm.config["ide0"];
  if (!ide0 || !/media=cdrom/.test(ide0)) return undefined;
  const volid = ide0.split(",")[0] ?? "";
  return volid === "none" || volid === "cdrom" ? undefined : volid;
}

function kubeletVm(state: LabState, vm: LabVm): KubeletVm | undefined {
  const volid = isoVolume(vm);
  const data = volid ? state.findVolume(volid, vm.node)?.data : undefined;
  if (!data) return undefined;
  const cores = Number(vm.config["cores"] ?? 1) * Number(vm.config["sockets"] ?? 1);
  return { vmid: vm.vmid, cpus: cores, memoryMiB: Number(vm.config["memory"] ?? 512), seed: readSeed(data) };
}

/** Attaches kubelet stand-ins to the lab's VMs; returns the function that stops them all. */
export function attachKubeletStandIns(state: LabState, log: (line: string) => void): () => void {
  const running = new Map<number, AbortController>();
  const say = (vmid: number, line: string): void => log(`kubelet stand-in (VM ${vmid}): ${line}`);
  const listener = ({ type, vm }: VmEvent): void => {
    if (type === "created") return;
    running.get(vm.vmid)?.abort();
    running.delete(vm.vmid);
    if (type !== "started") return;
    let target: KubeletVm | undefined;
    let join;
    try {
      target = kubeletVm(state, vm);
      join = target ? joinOf(target.seed) : undefined;
    } catch (error) {
      say(vm.vmid, `cloud-init cannot use the ISO: ${(error as Error).message}`);
      return;
    }
    if (!target || !join) return;
    const stop = new AbortController();
    running.set(vm.vmid, stop);
    say(vm.vmid, `kubeadm join ${join.apiServerEndpoint}`);
    void runKubelet(target, join, stop.signal, (line) => say(vm.vmid, line)).catch((error: unknown) => {
      if (!stop.signal.aborted) say(vm.vmid, `never joins: ${(error as Error).message}`);
    });
  };
  const unsubscribe = state.onVmEvent(listener);
  return () => {
    unsubscribe();
    for (const stop of running.values()) stop.abort();
    running.clear();
  };
}
