/**
 * The VM address ranges must not hold addresses existing guests already use: capmox's IPAM
 * knows only its own allocations and would hand such an address out again.
 */
import type { ClusterResource } from "../../proxmox/index.js";
import { apiFailure, errorKind } from "../api-failure.js";
import type { StageContext } from "../input.js";
import { type CheckOutcome, fail, pass, skip } from "../model.js";
import {
  type GuestAddress,
  addressesFromAgent,
  addressesFromConfig,
  addressesFromTags,
  findConflicts,
  parseRanges,
} from "./ip-logic.js";
import { agentEnabled } from "./template-logic.js";

/** How many guests are inspected at once. */
const PARALLEL = 4;


interface Inspection {
  readonly addresses: GuestAddress[];
  readonly unreadable?: { readonly guest: ClusterResource; readonly error: unknown };
  readonly agentAsked: boolean;
}

async function inspect(ctx: StageContext, guest: ClusterResource, signal: AbortSignal): Promise<Inspection> {
  const vmid = guest.vmid ?? 0;
  const node = guest.node ?? "";
  const ident = { vmid, node, ...(guest.name ? { name: guest.name } : {}) };
  const addresses = addressesFromTags(ident, guest.tags);
  const type = guest.type === "lxc" ? "lxc" : "qemu";
  let config: Readonly<Record<string, unknown>>;
  try {
    config =
      type === "qemu"
        ? await ctx.api.vmConfig(node, vmid)
        : await ctx.api.get<Record<string, unknown>>(`/nodes/${node}/lxc/${vmid}/config`, undefined, { signal });
  } catch (error) {
    return { addresses, unreadable: { guest, error }, agentAsked: false };
  }
  addresses.push(...addressesFromConfig({ ...ident, type }, config));
  if (type === "qemu" && guest.status === "running" && agentEnabled(config.agent)) {
    try {
      addresses.push(...addressesFromAgent(ident, await ctx.api.agentNetworkInterfaces(node, vmid)));
      return { addresses, agentAsked: true };
    } catch {
      // An agent that is not running (or not installed) just means fewer sources; the config still counts.
    }
  }
  return { addresses, agentAsked: false };
}

async function inspectAll(ctx: StageContext, guests: readonly ClusterResource[], signal: AbortSignal): Promise<Inspection[]> {
  const results: Inspection[] = new Array(guests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < guests.length && !signal.aborted) {
      const index = next++;
      results[index] = await inspect(ctx, guests[index] as ClusterResource, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, guests.length) }, worker));
  return results.filter(Boolean);
}

function who(a: GuestAddress): string {
  return `VM ${a.vmid}${a.name ? ` (${a.name})` : ""} on ${a.node} via ${a.where}`;
}

export async function checkIpRanges(ctx: StageContext, signal: AbortSignal): Promise<CheckOutcome> {
  let ranges;
  try {
    ranges = parseRanges(ctx.config.network.addressRanges);
  } catch (error) {
    return fail((error as Error).message, "correct network.addressRanges in the platform config");
  }
  let resources: ClusterResource[];
  try {
    resources = await ctx.vmResources();
  } catch (error) {
    return apiFailure("listing guests (GET /cluster/resources?type=vm)", error, ctx.api.url);
  }
  const guests = resources.filter((r) => (r.type === "qemu" || r.type === "lxc") && !(r.template === 1 || r.template === true));
  const inspected = await inspectAll(ctx, guests, signal);
  const { conflicts, managed } = findConflicts(inspected.flatMap((i) => i.addresses), ranges);
  const rangeText = ranges.map((r) => r.label).join(", ");
  const figures = { guests: guests.length, conflicts: conflicts.length, capmoxAllocated: managed.length };
  if (conflicts.length > 0) {
    const list = conflicts.map((c) => `${c.ip} used by ${c.users.map(who).join(" and ")}`).join("; ");
    return fail(
      `addresses in the VM ranges (${rangeText}) are already in use: ${list}`,
      "take these addresses out of network.addressRanges (split a range around them), or move those guests to other addresses; capmox's IPAM does not know about them and would hand them out again",
      figures,
    );
  }
  const unreadable = inspected.filter((i) => i.unreadable).map((i) => i.unreadable!);
  if (unreadable.length > 0) {
    const offline = unreadable.every((u) => errorKind(u.error) === "proxy");
    const nodes = [...new Set(unreadable.map((u) => u.guest.node ?? "?"))];
    const allowed = ctx.config.proxmox.allowedNodes;
    const vmids = unreadable.map((u) => u.guest.vmid).join(", ");
    if (offline && nodes.every((n) => allowed.includes(n))) {
      // Each offline node is already a failure of its own check; do not count it twice.
      return skip(`guests ${vmids} on ${nodes.join(", ")} could not be inspected because the node is offline`, `node.${nodes[0]}.online`);
    }
    return fail(
      `the configs of guests ${vmids} (on ${nodes.join(", ")}) could not be read, so their addresses are unknown: ${(unreadable[0]?.error as Error)?.message ?? ""}`,
      offline
        ? `bring ${nodes.join(", ")} back online and run the stage again`
        : "grant the token VM.Audit on /vms (see api.privileges.capmox) and run the stage again",
      figures,
    );
  }
  const agents = inspected.filter((i) => i.agentAsked).length;
  const note = managed.length > 0 ? `; ${managed.length} address(es) are capmox IPAM allocations (tagged ip_netN_<addr>)` : "";
  return pass(
    `${guests.length} guests inspected (configs, capmox tags, ${agents} guest agent(s)): no address in ${rangeText} is taken${note}`,
    figures,
  );
}
