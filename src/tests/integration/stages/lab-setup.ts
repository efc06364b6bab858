/**
 * Lab wiring for the stage and VM-test integration tests. The stages never import the lab;
 * these helpers hand them a real HTTPS client pointed at a lab on 127.0.0.1.
 *
 * `labConfig()` is the built-in default config pointed at a lab started with the default
 * scenario (whose template disk sits on the shared storage `ceph-vm`, as capmox needs).
 */
import { defaultConfig, type PlatformConfig } from "../../../config/index.js";
import { defaultScenario, type LabHandle, type Scenario } from "../../../lab/index.js";
import { createProxmoxClient, type HttpProxmoxApi } from "../../../proxmox/index.js";
import { type StageInput, resolveTimeouts, type Timeouts } from "../../../stages/index.js";

export const SHARED_STORAGE = defaultConfig().proxmox.diskStorage;
/** Secret of the least-privilege capmox token of `leastPrivilegeScenario()` (a lab-only value). */
export const CAPMOX_TOKEN = { id: "capmox@pve!capi", secret: "5d0a6c7e-1b2f-4c3d-9e8f-a1b2c3d4e5f6" };

/** Adds capmox@pve with a token holding exactly what capmox, CSI and CCM need (pool capi). */
export function leastPrivilegeScenario(base: Scenario = defaultScenario()): Scenario {
  const user = "capmox@pve";
  return {
    ...base,
    users: [...(base.users ?? []), { id: user }],
    tokens: [...base.tokens, { id: CAPMOX_TOKEN.id, secret: CAPMOX_TOKEN.secret, privsep: false }],
    acl: [
      ...(base.acl ?? []),
      { path: "/", role: "PVEAuditor", user, propagate: false },
      { path: "/nodes", role: "PVEAuditor", user },
      { path: "/pool/capi", role: "PVEVMAdmin", user },
      { path: "/vms/9000", role: "PVETemplateUser", user },
      { path: `/storage/${SHARED_STORAGE}`, role: "PVEDatastoreAdmin", user },
      { path: "/storage/local", role: "PVEDatastoreAdmin", user },
      { path: "/sdn/zones/localnetwork/vmbr0", role: "PVESDNUser", user },
    ],
  };
}

/** The built-in default config for a lab: its URL and certificate pin. */
export function labConfig(lab: LabHandle, over: Partial<PlatformConfig["proxmox"]> = {}): PlatformConfig {
  const base = defaultConfig();
  return {
    ...base,
    proxmox: { ...base.proxmox, url: lab.url, tls: { insecure: false, fingerprint: lab.fingerprint! }, ...over },
  };
}

export function labClient(lab: LabHandle, token: { id: string; secret: string } = lab.tokens.admin): HttpProxmoxApi {
  return createProxmoxClient({ url: lab.url, tokenId: token.id, secret: token.secret, tls: { fingerprint: lab.fingerprint! }, timeoutMs: 10_000 });
}

/** Short polls so tests do not wait on the production intervals. */
export function testTimeouts(over: Record<string, number> = {}): Timeouts {
  return resolveTimeouts({ "poll.task": 50, "poll.agent": 50, "poll.retry": 50, ...over });
}

export function stageInput(lab: LabHandle, config: PlatformConfig, api: HttpProxmoxApi, timeouts: Timeouts = testTimeouts()): StageInput {
  return { config, api, configuredUrl: config.proxmox.url, tls: { fingerprint: lab.fingerprint! }, timeouts, secrets: [lab.tokens.admin.secret, CAPMOX_TOKEN.secret] };
}

/** VMIDs in the lab other than the scenario's templates. */
export function createdVms(lab: LabHandle): number[] {
  return [...lab.state.vms.values()].filter((vm) => vm.config.template !== "1").map((vm) => vm.vmid);
}

/** Volumes that belong to no template (leaked disks). */
export function createdVolumes(lab: LabHandle): string[] {
  const templates = new Set([...lab.state.vms.values()].filter((vm) => vm.config.template === "1").map((vm) => vm.vmid));
  return lab.state.volumes.filter((v) => v.vmid !== undefined && !templates.has(v.vmid)).map((v) => `${v.storage}:${v.volname}`);
}
