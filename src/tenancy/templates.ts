/**
 * The VMIDs of the template(s) capmox clones, for the template ACL: the config's templateId,
 * or for a template chosen by tags the templates whose tag set equals the selector (capmox
 * v0.7 matches exactly), found through the API when a client is given.
 */
import type { PlatformConfig } from "../config/index.js";
import type { ProxmoxApi } from "../proxmox/index.js";

export async function templateIds(config: PlatformConfig, api: ProxmoxApi | undefined): Promise<{ ids: number[]; note?: string }> {
  const t = config.proxmox.template;
  if (t.kind === "id") return { ids: [t.templateId] };
  const wanted = [...new Set(t.tags.map((x) => x.toLowerCase()))].sort().join(";");
  if (!api) return { ids: [], note: `the template is chosen by tags (${wanted}): --apply finds its VMID and grants PVETemplateUser on /vms/<vmid>` };
  const vms = await api.clusterResources("vm");
  const ids = vms
    .filter((vm) => Number(vm.template) === 1 && [...new Set(String(vm.tags ?? "").toLowerCase().split(/[;, ]+/).filter(Boolean))].sort().join(";") === wanted)
    .map((vm) => Number(vm.vmid));
  return ids.length > 0 ? { ids } : { ids: [], note: `no template has exactly the tags ${wanted}: PVETemplateUser was not granted` };
}
