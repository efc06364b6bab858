/**
 * Scenarios: the cluster the lab starts with. A scenario is plain data (an object or a
 * YAML file); `defaultScenario()` is the cluster the issue describes. Validation happens
 * here, once, and every error names the field path and the bad value.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject } from "ajv";
import { parse as parseYaml } from "yaml";
import { fieldPath, schemaProblem } from "../schema-errors/index.js";
import type { FaultRule } from "./faults.js";

/** A Linux bridge on a node (`/nodes/{node}/network`). */
export interface ScenarioBridge {
  /** Interface name, e.g. `vmbr0`. */
  readonly name: string;
  /** `bridge_vlan_aware`. @default true */
  readonly vlanAware?: boolean;
  /** `bridge_ports`. @default "eno1" */
  readonly ports?: string;
  /** Address in CIDR form. @default none */
  readonly cidr?: string;
  /** Default gateway. @default none */
  readonly gateway?: string;
}

/** A cluster node. */
export interface ScenarioNode {
  /** Node name (`pve1`). */
  readonly name: string;
  /** Whether the node answers; requests proxied to an offline node get 595. @default true */
  readonly online?: boolean;
  /** The node's cluster address (only reported, never contacted). @default 10.0.0.<10+n> */
  readonly ip?: string;
  /** Logical CPUs. @default 16 */
  readonly cpus?: number;
  /** Physical memory in MiB. @default 65536 */
  readonly memoryMiB?: number;
  /** Bridges. @default [{ name: "vmbr0" }] */
  readonly bridges?: readonly ScenarioBridge[];
}

/** Storage types the lab knows (file-based ones accept uploads). */
export type StorageType = "dir" | "nfs" | "cifs" | "cephfs" | "lvmthin" | "lvm" | "zfspool" | "rbd";

/** A storage defined in the datacenter's storage.cfg. */
export interface ScenarioStorage {
  /** Storage ID (`local-lvm`). */
  readonly id: string;
  /** Plugin type. */
  readonly type: StorageType;
  /** Allowed content types (`images`, `rootdir`, `iso`, `vztmpl`, `backup`, `snippets`, `import`). */
  readonly content: readonly string[];
  /** Shared between nodes (one volume list for all). @default false */
  readonly shared?: boolean;
  /** Nodes that have it. @default every node */
  readonly nodes?: readonly string[];
  /** Capacity in GiB (per node unless shared). @default 100 */
  readonly totalGiB?: number;
  /** @default true */
  readonly enabled?: boolean;
}

/** A QEMU VM or template that exists at start. */
export interface ScenarioVm {
  readonly vmid: number;
  readonly node: string;
  /** @default "stopped" */
  readonly status?: "running" | "stopped";
  /** Pool membership. @default none */
  readonly pool?: string;
  /** The VM's config as PVE stores it (`scsi0`, `net0`, `template: 1`, ...). Disks named here become volumes. */
  readonly config: Readonly<Record<string, string | number>>;
}

/** A resource pool. */
export interface ScenarioPool {
  readonly id: string;
  readonly comment?: string;
  /** Member storages (privileges on /pool/<id> reach them). @default [] */
  readonly storages?: readonly string[];
}

/** A user (tokens belong to users). `root@pam` always exists. */
export interface ScenarioUser {
  /** `name@realm`. */
  readonly id: string;
  /** @default true */
  readonly enabled?: boolean;
}

/** An API token. */
export interface ScenarioToken {
  /** `user@realm!name`. */
  readonly id: string;
  /** The secret; a random UUID per start when absent. */
  readonly secret?: string;
  /** Privilege separation: token privileges = token ACLs ∩ user ACLs. @default false */
  readonly privsep?: boolean;
}

/** One ACL entry: a role for a user or a token on a path. */
export interface ScenarioAcl {
  readonly path: string;
  readonly role: string;
  readonly user?: string;
  readonly token?: string;
  /** @default true */
  readonly propagate?: boolean;
}

/** How long things take. */
export interface ScenarioTiming {
  /** Default duration of every task. @default 50 (the CLI uses 1000) */
  readonly taskDurationMs?: number;
  /** Per task type overrides, e.g. `{ qmclone: 3000 }`. @default {} */
  readonly taskDurations?: Readonly<Record<string, number>>;
  /** Delay between `qmstart` finishing and the guest agent answering. @default 2 × taskDurationMs */
  readonly agentBootDelayMs?: number;
  /** PVE delays 401 answers by ~3 s. @default 0 */
  readonly authFailureDelayMs?: number;
}

/**
 * Named timings. `capmox`: every task and the guest agent's boot fit the fixed waits of
 * go-proxmox v0.2.1 that capmox v0.7.0 relies on (a config task ≤ 2 s, an ISO upload ≤ 5 s,
 * the agent ≤ 5 s after start), with room to spare on a loaded machine, yet slow enough
 * that capmox sees tasks running. `instant`: everything at 0, for measuring the
 * controllers' own overhead.
 */
export const timingPresets: Readonly<Record<string, ScenarioTiming>> = {
  capmox: { taskDurationMs: 300, agentBootDelayMs: 1_000 },
  instant: { taskDurationMs: 0, agentBootDelayMs: 0 },
};

/** A canned answer of the guest agent to `agent/exec`. */
export interface ScenarioAgentCommand {
  /** The command line, arguments joined by single spaces (`cloud-init status`). */
  readonly command: string;
  /** @default 0 */
  readonly exitcode?: number;
  /** stdout. @default "" */
  readonly out?: string;
  /** stderr. @default "" */
  readonly err?: string;
}

/** Guest agent behaviour shared by all VMs. */
export interface ScenarioAgent {
  /** `get-osinfo` result. @default Ubuntu 24.04 */
  readonly osinfo?: Readonly<Record<string, string>>;
  /** Canned `agent/exec` answers (checked before the built-in ones). @default [] */
  readonly commands?: readonly ScenarioAgentCommand[];
  /** First three octets of the guest addresses `network-get-interfaces` reports. @default "10.0.0" */
  readonly ipPrefix?: string;
}

/** Everything the lab starts with. */
export interface Scenario {
  /** Cluster name; a single node without a cluster when absent and only one node exists. @default "lab" */
  readonly clusterName?: string;
  /** `/version` answer; its major also picks the privilege set (below 9: PVE 8.4 roles with VM.Monitor). @default 9.1.1 / 9.1 */
  readonly version?: { readonly version: string; readonly release: string; readonly repoid: string };
  readonly nodes: readonly ScenarioNode[];
  readonly storages: readonly ScenarioStorage[];
  /** @default [] */
  readonly vms?: readonly ScenarioVm[];
  /** @default [] */
  readonly pools?: readonly ScenarioPool[];
  /** @default [] (root@pam is implicit) */
  readonly users?: readonly ScenarioUser[];
  /** The first token is the handle's `admin`, the second its `readonly`. */
  readonly tokens: readonly ScenarioToken[];
  /** @default [] */
  readonly acl?: readonly ScenarioAcl[];
  readonly timing?: ScenarioTiming;
  readonly agent?: ScenarioAgent;
  /** Faults active from the start. @default [] */
  readonly faults?: readonly FaultRule[];
  /** Seed for the lab's randomness (MACs, UUIDs, fault rates). @default random */
  readonly seed?: number;
}

/**
 * The cluster of issue 2: pve1..pve3, vmbr0, template 9000, two tokens. Storages: `local`
 * (ISO), `local-lvm` (per node) and `ceph-vm`, shared, holding the template's disk: capmox
 * clones the template on pve1 with `target` = any allowed node, which Proxmox only allows
 * from and to shared storage.
 */
export function defaultScenario(): Scenario {
  return {
    clusterName: "lab",
    nodes: ["pve1", "pve2", "pve3"].map((name) => ({ name, bridges: [{ name: "vmbr0", vlanAware: true }] })),
    storages: [
      { id: "local", type: "dir", content: ["iso", "vztmpl", "backup", "snippets", "import"] },
      { id: "local-lvm", type: "lvmthin", content: ["images", "rootdir"], totalGiB: 500 },
      { id: "ceph-vm", type: "rbd", content: ["images"], shared: true, totalGiB: 2000 },
    ],
    vms: [
      {
        vmid: 9000,
        node: "pve1",
        config: {
          name: "ubuntu-2404-template",
          template: 1,
          tags: "k8s-template;ubuntu-2404",
          agent: "1",
          boot: "order=scsi0;net0",
          bios: "seabios",
          cores: 2,
          sockets: 1,
          cpu: "x86-64-v2-AES",
          memory: "4096",
          ostype: "l26",
          scsihw: "virtio-scsi-single",
          scsi0: "ceph-vm:base-9000-disk-0,discard=on,iothread=1,size=16G",
          net0: "virtio=BC:24:11:90:00:01,bridge=vmbr0,firewall=1",
          serial0: "socket",
          smbios1: "uuid=6f1c3c52-8a4e-4d8f-9b1e-5a2f0c9e9000",
          vmgenid: "0b0e4f9c-3d52-4c61-a2f8-7e5d4c3b9000",
          meta: "creation-qemu=9.2.0,ctime=1737000000",
        },
      },
    ],
    pools: [{ id: "capi", comment: "tenant cluster VMs" }],
    users: [{ id: "auditor@pve" }],
    tokens: [{ id: "root@pam!cozy", privsep: false }, { id: "auditor@pve!ro", privsep: true }],
    acl: [
      { path: "/", role: "PVEAuditor", user: "auditor@pve" },
      { path: "/", role: "PVEAuditor", token: "auditor@pve!ro" },
    ],
  };
}

// The JSON schema of a scenario (ajv). Field names match the interfaces above.
const str = { type: "string", minLength: 1 };
const scenarioSchema = {
  type: "object",
  additionalProperties: false,
  required: ["nodes", "storages", "tokens"],
  properties: {
    clusterName: str,
    version: {
      type: "object",
      additionalProperties: false,
      required: ["version", "release", "repoid"],
      properties: { version: str, release: str, repoid: str },
    },
    nodes: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: {
          name: { type: "string", pattern: "^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$" },
          online: { type: "boolean" },
          ip: str,
          cpus: { type: "integer", minimum: 1 },
          memoryMiB: { type: "integer", minimum: 64 },
          bridges: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["name"],
              properties: { name: str, vlanAware: { type: "boolean" }, ports: str, cidr: str, gateway: str },
            },
          },
        },
      },
    },
    storages: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "type", "content"],
        properties: {
          id: { type: "string", pattern: "^[a-zA-Z][a-zA-Z0-9\\-_.]*[a-zA-Z0-9]$" },
          type: { enum: ["dir", "nfs", "cifs", "cephfs", "lvmthin", "lvm", "zfspool", "rbd"] },
          content: {
            type: "array",
            items: { enum: ["images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"] },
          },
          shared: { type: "boolean" },
          nodes: { type: "array", items: str },
          totalGiB: { type: "number", exclusiveMinimum: 0 },
          enabled: { type: "boolean" },
        },
      },
    },
    vms: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["vmid", "node", "config"],
        properties: {
          vmid: { type: "integer", minimum: 100, maximum: 999999999 },
          node: str,
          status: { enum: ["running", "stopped"] },
          pool: str,
          config: { type: "object", additionalProperties: { type: ["string", "number"] } },
        },
      },
    },
    pools: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: { id: str, comment: { type: "string" }, storages: { type: "array", items: str } },
      },
    },
    users: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: { id: { type: "string", pattern: "^[^\\s:/]+@[A-Za-z][A-Za-z0-9.\\-_]+$" }, enabled: { type: "boolean" } },
      },
    },
    tokens: {
      type: "array",
      minItems: 2,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: {
          id: { type: "string", pattern: "^[^\\s:/]+@[A-Za-z][A-Za-z0-9.\\-_]+![A-Za-z][A-Za-z0-9.\\-_]+$" },
          secret: str,
          privsep: { type: "boolean" },
        },
      },
    },
    acl: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["path", "role"],
        properties: { path: { type: "string", pattern: "^/" }, role: str, user: str, token: str, propagate: { type: "boolean" } },
      },
    },
    timing: {
      type: "object",
      additionalProperties: false,
      properties: {
        taskDurationMs: { type: "integer", minimum: 0 },
        taskDurations: { type: "object", additionalProperties: { type: "integer", minimum: 0 } },
        agentBootDelayMs: { type: "integer", minimum: 0 },
        authFailureDelayMs: { type: "integer", minimum: 0 },
      },
    },
    agent: {
      type: "object",
      additionalProperties: false,
      properties: {
        osinfo: { type: "object", additionalProperties: { type: "string" } },
        commands: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["command"],
            properties: { command: str, exitcode: { type: "integer" }, out: { type: "string" }, err: { type: "string" } },
          },
        },
        ipPrefix: { type: "string", pattern: "^\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$" },
      },
    },
    faults: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["match"],
        properties: {
          match: str,
          latencyMs: { type: "integer", minimum: 0 },
          errorRate: { type: "number", minimum: 0, maximum: 1 },
          status: { type: "integer", minimum: 400, maximum: 599 },
          message: str,
          drop: { type: "boolean" },
          lockTimeout: { type: "boolean" },
          failTask: { type: ["string", "boolean"] },
          count: { type: "integer", minimum: 1 },
        },
      },
    },
    seed: { type: "integer" },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateScenarioShape = ajv.compile(scenarioSchema);

/** A scenario that failed validation; `problems` name each field and value. */
export class ScenarioError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid scenario ${source}:\n  ${problems.join("\n  ")}`, options);
    this.name = "ScenarioError";
    this.problems = problems;
  }
}

/** One line per schema problem, in the words config and CRD validation use; undefined for an error another one explains. */
function describeAjvError(root: unknown, e: ErrorObject): string | undefined {
  const p = schemaProblem(root, e);
  if (!p) return undefined;
  const field = fieldPath(p.at, "scenario");
  if (p.kind === "unknown-field" || p.kind === "missing") return `${field}: ${p.message}`;
  return `${field}: ${p.kind === "key" ? "key " : ""}${p.message} (got ${JSON.stringify(p.value)})`;
}

/** Cross-field checks ajv cannot express: references between nodes, storages, VMs, pools, tokens. */
function checkReferences(s: Scenario): string[] {
  const problems: string[] = [];
  const nodes = new Set(s.nodes.map((n) => n.name));
  const dup = (kind: string, ids: readonly (string | number)[]): void => {
    const seen = new Set<string | number>();
    ids.forEach((id, i) => {
      if (seen.has(id)) problems.push(`scenario.${kind}[${i}]: duplicate id ${JSON.stringify(id)}`);
      seen.add(id);
    });
  };
  dup("nodes", s.nodes.map((n) => n.name));
  dup("storages", s.storages.map((x) => x.id));
  dup("vms", (s.vms ?? []).map((v) => v.vmid));
  dup("tokens", s.tokens.map((t) => t.id));
  s.storages.forEach((st, i) =>
    (st.nodes ?? []).forEach((n, j) => {
      if (!nodes.has(n)) problems.push(`scenario.storages[${i}].nodes[${j}]: unknown node ${JSON.stringify(n)}`);
    }),
  );
  const pools = new Set((s.pools ?? []).map((p) => p.id));
  const storages = new Set(s.storages.map((x) => x.id));
  (s.pools ?? []).forEach((p, i) =>
    (p.storages ?? []).forEach((st, j) => {
      if (!storages.has(st)) problems.push(`scenario.pools[${i}].storages[${j}]: unknown storage ${JSON.stringify(st)}`);
    }),
  );
  (s.vms ?? []).forEach((vm, i) => {
    if (!nodes.has(vm.node)) problems.push(`scenario.vms[${i}].node: unknown node ${JSON.stringify(vm.node)}`);
    if (vm.pool !== undefined && !pools.has(vm.pool)) {
      problems.push(`scenario.vms[${i}].pool: unknown pool ${JSON.stringify(vm.pool)}`);
    }
  });
  const users = new Set(["root@pam", ...(s.users ?? []).map((u) => u.id)]);
  s.tokens.forEach((t, i) => {
    const user = t.id.split("!")[0] ?? "";
    if (!users.has(user)) problems.push(`scenario.tokens[${i}].id: token of unknown user ${JSON.stringify(user)}`);
  });
  const tokens = new Set(s.tokens.map((t) => t.id));
  (s.acl ?? []).forEach((a, i) => {
    if ((a.user === undefined) === (a.token === undefined)) {
      problems.push(`scenario.acl[${i}]: exactly one of user or token is required`);
    }
    if (a.user !== undefined && !users.has(a.user)) problems.push(`scenario.acl[${i}].user: unknown user ${JSON.stringify(a.user)}`);
    if (a.token !== undefined && !tokens.has(a.token)) problems.push(`scenario.acl[${i}].token: unknown token ${JSON.stringify(a.token)}`);
  });
  return problems;
}

/** Validates a scenario object; throws ScenarioError naming every bad field. */
export function validateScenario(input: unknown, source = "(object)"): Scenario {
  if (!validateScenarioShape(input)) {
    throw new ScenarioError(source, (validateScenarioShape.errors ?? []).map((e) => describeAjvError(input, e)).filter((m): m is string => m !== undefined));
  }
  const scenario = input as unknown as Scenario;
  const problems = checkReferences(scenario);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return scenario;
}

/** Reads and validates a scenario YAML file. */
export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ScenarioError(file, [`cannot read the file: ${(cause as Error).message}`], { cause });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ScenarioError(file, [`not valid YAML: ${(cause as Error).message}`], { cause });
  }
  return validateScenario(parsed, file);
}

/** A scenario given as an object, a YAML path or nothing (the default). */
export function resolveScenario(scenario: Scenario | string | undefined): Scenario {
  if (scenario === undefined) return defaultScenario();
  if (typeof scenario === "string") return loadScenarioFile(scenario);
  return validateScenario(scenario);
}

/**
 * The scenario with its first (admin) token replaced by `id`/`secret`. A token of another user
 * than root@pam gets that user created with Administrator on `/` (privsep off), so the token
 * has full privileges like the default one.
 */
export function withAdminToken(scenario: Scenario, id: string, secret?: string): Scenario {
  const user = id.split("!")[0] ?? "";
  const users = scenario.users ?? [];
  const rest = scenario.tokens.slice(1).filter((t) => t.id !== id);
  const token: ScenarioToken = { id, privsep: false, ...(secret === undefined ? {} : { secret }) };
  const needsUser = user !== "root@pam" && !users.some((u) => u.id === user);
  return validateScenario(
    {
      ...scenario,
      users: needsUser ? [...users, { id: user }] : users,
      tokens: [token, ...rest],
      acl: user === "root@pam" ? (scenario.acl ?? []) : [...(scenario.acl ?? []), { path: "/", role: "Administrator", user }],
    },
    "(with --token)",
  );
}
