/** QEMU guest agent calls (need the agent enabled in the VM config and running in the guest). */
import { apiPath, requireNode, requireVmid, type Requester } from "./requester.js";
import type { AgentExecStarted, AgentExecStatus, AgentNetworkInterface, AgentOsInfo } from "./types.js";

function agentPath(node: string, vmid: number, command: string): string {
  return apiPath`/nodes/${requireNode(node)}/qemu/${requireVmid(vmid)}/agent/${command}`;
}

export async function agentOsInfo(r: Requester, node: string, vmid: number): Promise<AgentOsInfo> {
  const data = await r.request<{ result: AgentOsInfo }>("GET", agentPath(node, vmid, "get-osinfo"));
  return data.result;
}

export function agentExec(r: Requester, node: string, vmid: number, command: readonly string[], inputData?: string): Promise<AgentExecStarted> {
  if (command.length === 0) throw new RangeError("command: expected a program and its arguments, got []");
  return r.request("POST", agentPath(node, vmid, "exec"), { command, "input-data": inputData });
}

export function agentExecStatus(r: Requester, node: string, vmid: number, pid: number): Promise<AgentExecStatus> {
  return r.request("GET", agentPath(node, vmid, "exec-status"), { pid });
}

export async function agentNetworkInterfaces(r: Requester, node: string, vmid: number): Promise<AgentNetworkInterface[]> {
  const data = await r.request<{ result: AgentNetworkInterface[] }>("GET", agentPath(node, vmid, "network-get-interfaces"));
  return data.result;
}
