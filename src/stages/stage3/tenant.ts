/**
 * Stage 3's test tenant: a tenant cluster generated exactly as `npm run synth` generates one
 * (the same constructs), in its own namespace with a unique name per run, one node group of
 * one replica. Its VMs carry the VM test's ownership and run tags, and their names (capmox
 * names a VM after its ProxmoxMachine) start with the VM test's name prefix and the run id,
 * so `npm run vm-test -- --sweep` finds whatever an interrupted run left behind.
 */
import { hostname } from "node:os";
import { deploymentName, machineTag, tenantObjects as renderTenantObjects } from "../../capi/index.js";
import { defaultNodeGroup, defaultTenant, formatIpv4, type IpRange, parseIpv4, type PlatformConfig, type TenantConfig } from "../../config/index.js";
import { tenantCredentialSecrets } from "../../kube/bootstrap/index.js";
import type { KubeObject } from "../../kube/index.js";
import { NAME_PREFIX, OWNER_TAG, runTag } from "../../ownership/index.js";

/** The node group of the test tenant. */
export const STAGE3_GROUP = "s3";

/** What the test tenant is called in this run. */
export interface TestTenant {
  readonly runId: string;
  /** The stage that made it (its namespace and node group are named after it). */
  readonly stage: number;
  /** `cozy-vmtest-<run id>`: Machine, ProxmoxMachine and so VM names start with it. */
  readonly name: string;
  readonly namespace: string;
  /** The config with only the test tenant (what synth renders it from). */
  readonly config: PlatformConfig;
  readonly tenant: TenantConfig;
  /** `<name>-s3`. */
  readonly machineDeployment: string;
  /** Tags every VM of the tenant carries: capmox's `capi-<name>-s3`, the ownership and run tags. */
  readonly tags: readonly string[];
  /** The config's tenant it is modelled on (its pool, VMID range and token, when it has its own). */
  readonly model?: string;
}

/**
 * The test tenant for a run: the first tenant of the config as the model (its version,
 * VM shape and address ranges), else the defaults; one node group `s3` of one replica.
 * Another stage's test tenant (`stage`) has namespace `cozy-stage<N>-<run id>` and node
 * group `s<N>`.
 */
export function testTenant(config: PlatformConfig, runId: string, replicas = 1, stage = 3): TestTenant {
  const name = `${NAME_PREFIX}${runId}`;
  const groupName = stage === 3 ? STAGE3_GROUP : `s${stage}`;
  const model = config.tenants[0] ?? defaultTenant(name, "v1.32.6");
  const group = { ...(model.nodeGroups[0] ?? defaultNodeGroup(groupName)), name: groupName, replicas, minReplicas: replicas, maxReplicas: Math.max(3, replicas) };
  const ownership = [OWNER_TAG, runTag(runId)];
  const tenant: TenantConfig = {
    ...model,
    name,
    namespace: `cozy-stage${stage}-${runId}`,
    nodeGroups: [{ ...group, tags: [...new Set([...group.tags, ...ownership])] }],
  };
  return {
    runId,
    stage,
    name,
    namespace: tenant.namespace,
    config: { ...config, tenants: [tenant] },
    tenant,
    machineDeployment: deploymentName(name, groupName),
    tags: [machineTag(name, groupName), ...ownership],
    ...(config.tenants[0] ? { model: config.tenants[0].name } : {}),
  };
}

/** What the Proxmox credentials Secret is made of (the token secret is never logged). */
export interface CapmoxCredentials {
  readonly tokenSecret: string;
  /** PEM that capmox trusts for the Proxmox certificate (`root_ca`); absent with `insecure`. */
  readonly caPem?: string;
  /** The model tenant's own token secret, when it has its own token. */
  readonly tenantTokenSecret?: string;
}

/** Label of a test tenant's namespace: `cozy-proxmox.io/stage<N>-run=<run id>`. */
export function tenantRunLabel(stage: number): string {
  return `cozy-proxmox.io/stage${stage}-run`;
}

/** Annotations naming the process that runs a stage, so a later run can tell a killed run from a live one. */
export const runHostAnnotation = "cozy-proxmox.io/run-host";
export const runPidAnnotation = "cozy-proxmox.io/run-pid";

/** Which process runs a stage: its host name and process id. */
export interface RunProcess {
  readonly host: string;
  readonly pid: number;
}

export function thisProcess(): RunProcess {
  return { host: hostname(), pid: process.pid };
}

/**
 * The test tenant's namespace (labelled with the run id, annotated with the process running
 * it) and its credentials Secret as bootstrap writes it.
 */
export function testTenantNamespace(t: TestTenant, credentials: CapmoxCredentials, runner: RunProcess = thisProcess()): KubeObject[] {
  const namespace: KubeObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: t.namespace, labels: { [tenantRunLabel(t.stage)]: t.runId }, annotations: { [runHostAnnotation]: runner.host, [runPidAnnotation]: String(runner.pid) } },
  };
  const secrets = tenantCredentialSecrets({
    config: t.config,
    tokenSecret: credentials.tokenSecret,
    ...(credentials.tenantTokenSecret === undefined ? {} : { tenantTokenSecrets: { [t.name]: credentials.tenantTokenSecret } }),
    ...(credentials.caPem ? { caPem: credentials.caPem } : {}),
  });
  return [namespace, ...secrets];
}

/** Namespace, credentials Secret (as bootstrap writes it) and the tenant's Cluster API objects, in apply order. */
export function testTenantObjects(t: TestTenant, credentials: CapmoxCredentials): KubeObject[] {
  const objects = [...(renderTenantObjects(t.config).values())].flat() as unknown as KubeObject[];
  return [...testTenantNamespace(t, credentials), ...objects];
}


/**
 * The last `count` addresses of `ranges` that nothing uses, as single-address ranges in
 * ascending order: the test tenant's pool. capmox makes one pool per cluster, so without
 * this the test VMs would take addresses the platform's tenants already hand out. Taken
 * from the end of the ranges, where pools fill last. Undefined when fewer are free.
 */
export function freeAddresses(ranges: readonly IpRange[], used: ReadonlySet<string>, count: number): IpRange[] | undefined {
  const picked: string[] = [];
  for (const range of [...ranges].reverse()) {
    const [first, last] = [parseIpv4(range.start), parseIpv4(range.end)];
    if (first === undefined || last === undefined) continue;
    for (let n = last; n >= first && picked.length < count; n--) {
      const ip = formatIpv4(n);
      if (!used.has(ip)) picked.push(ip);
    }
  }
  if (picked.length < count) return undefined;
  return picked.reverse().map((ip) => ({ start: ip, end: ip }));
}

/** The same tenant with its pool narrowed to these addresses. */
export function withAddresses(t: TestTenant, addresses: readonly IpRange[]): TestTenant {
  const tenant = { ...t.tenant, addressRanges: addresses };
  return { ...t, tenant, config: { ...t.config, tenants: [tenant] } };
}
