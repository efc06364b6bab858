import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  ConfigError,
  checkConfigText,
  defaultConfig,
  loadConfig,
  parseConfig,
  printConfig,
  resolveSecret,
  toUserForm,
  type ConfigIssue,
} from "../../../config/index.js";
import { defaultValues } from "../../../cozystack/app/index.js";

/** The built-in default in user form, with a change applied to the plain object. */
function userConfig(change: (c: any) => void = () => undefined): string {
  const raw = structuredClone(toUserForm(defaultConfig())) as any;
  change(raw);
  return stringify(raw);
}

function issuesOf(text: string): ConfigIssue[] {
  return checkConfigText(text).issues;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "config-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the built-in default config", () => {
  it("is valid and describes the lab's default scenario", () => {
    const c = defaultConfig();
    expect(checkConfigText(userConfig()).issues).toEqual([]);
    expect(c.proxmox.url).toBe("https://127.0.0.1:8006");
    expect(c.proxmox.tokenId).toBe("root@pam!cozy");
    expect(c.proxmox.secret).toEqual({ env: "PROXMOX_SECRET" });
    expect(c.proxmox.allowedNodes).toEqual(["pve1", "pve2", "pve3"]);
    expect(c.proxmox.template).toEqual({ kind: "id", templateId: 9000, sourceNode: "pve1" });
    expect([c.proxmox.bridge, c.proxmox.diskStorage, c.proxmox.isoStorage]).toEqual(["vmbr0", "ceph-vm", "local"]);
    expect(c.tenants).toHaveLength(1);
    expect(c.tenants[0]!.nodeGroups).toHaveLength(1);
  });

  it("prints as commented YAML that parses back to the same config", () => {
    const text = printConfig();
    expect(text).toMatch(/^# Platform description/);
    expect(text).toContain("# Base URL of the Proxmox VE API");
    expect(text).not.toContain("*a"); // no YAML aliases
    expect(parseConfig(text)).toStrictEqual(defaultConfig());
  });

  it("names, as comments, the optional fields the default leaves out, each where it would go", () => {
    const text = printConfig();
    expect(text).toMatch(/\n# Also possible here, not set in this config:\n#   cozystackV1: CozyStack v1\.x settings.*\n#   stages: /);
    expect(text).toMatch(/\n  # Also possible here, not set in this config:\n(  # {3}.*\n)*  # {3}managementVmIdRange: /);
    expect(text).toMatch(/\n {4}# Also possible here, not set in this config:\n {4}# {3}proxmox: This tenant's isolation on Proxmox/);
    expect(text).toMatch(/# {3}nodeStartupTimeout: MachineHealthCheck/);
    // A field that is set is not offered again; the alternatives of a one-of without a description are not listed.
    expect(text).not.toMatch(/# {3}(url|tokenId|file):/);
  });

  it("is what loadConfig returns without a file", async () => {
    expect(await loadConfig()).toStrictEqual(defaultConfig());
  });
});

describe("defaults", () => {
  it("fills in everything a minimal config leaves out", () => {
    const text = userConfig((c) => {
      c.tenants = [{ name: "small", version: "v1.31.2", nodeGroups: [{ name: "pool", replicas: 3 }] }];
      delete c.proxmox.bridge;
      delete c.cozystack.podCidr;
    });
    const c = parseConfig(text);
    const t = c.tenants[0]!;
    expect(t.namespace).toBe("tenant-small");
    expect(t.addressRanges).toEqual(c.network.addressRanges);
    expect(t.controlPlane).toEqual({ replicas: 2, serviceType: "LoadBalancer", dataStore: "tenant-root" });
    expect(t.nodeGroups[0]).toMatchObject({ replicas: 3, minReplicas: 3, maxReplicas: 3, memoryMiB: 4096, tags: [], labels: {} });
    expect(c.proxmox.bridge).toBe("vmbr0");
    expect(c.cozystack.podCidr).toBe("10.244.0.0/16");
  });

  it("reads the platform's Talos template, which the app chart's values.yaml carries as talos.template", () => {
    const c = parseConfig(userConfig((c) => (c.proxmox.talosTemplate = { tags: ["talos"] })));
    expect(c.proxmox.talosTemplate).toEqual({ kind: "tags", tags: ["talos"], matchPolicy: "exact" });
    expect(defaultValues(c)["talos"]).toEqual({ template: { kind: "tags", tags: ["talos"] } });
    expect(defaultValues(parseConfig(userConfig(() => undefined)))).not.toHaveProperty("talos");
  });

  it("reads a template selected by tags", () => {
    const c = parseConfig(userConfig((c) => (c.proxmox.template = { tags: ["ubuntu", "k8s"] })));
    expect(c.proxmox.template).toEqual({ kind: "tags", tags: ["ubuntu", "k8s"], matchPolicy: "exact" });
  });
});

describe("validation", () => {
  // each case: a mistake, the field path that must be named, words of the message
  const cases: [string, (c: any) => void, string, RegExp][] = [
    ["unknown field", (c) => (c.proxmox.colour = "blue"), "proxmox.colour", /unknown field/],
    ["missing field", (c) => delete c.network.gateway, "network.gateway", /required/],
    ["memory not a multiple of 8", (c) => (c.tenants[0].nodeGroups[0].memoryMiB = 4097), "tenants[0].nodeGroups[0].memoryMiB", /multiple of 8/],
    ["min above replicas", (c) => (c.tenants[0].nodeGroups[0].minReplicas = 5), "tenants[0].nodeGroups[0].minReplicas", /exceed replicas/],
    ["max below replicas", (c) => (c.tenants[0].nodeGroups[0].maxReplicas = 1), "tenants[0].nodeGroups[0].maxReplicas", /below replicas/],
    ["duplicate tenant", (c) => c.tenants.push({ ...structuredClone(c.tenants[0]), addressRanges: [{ start: "10.0.0.100", end: "10.0.0.100" }] }), "tenants[1].name", /also the name/],
    ["duplicate node group", (c) => c.tenants[0].nodeGroups.push({ name: "workers" }), "tenants[0].nodeGroups[1].name", /another node group/],
    ["template id and tags", (c) => (c.proxmox.template.tags = ["ubuntu"]), "proxmox.template", /exclusive/],
    ["template id without node", (c) => delete c.proxmox.template.sourceNode, "proxmox.template.sourceNode", /required/],
    ["two TLS modes", (c) => (c.proxmox.tls = { insecure: true, caFile: "/ca.pem" }), "proxmox.tls", /exclusive/],
    ["url with /api2/json", (c) => (c.proxmox.url = "https://pve:8006/api2/json"), "proxmox.url", /api2\/json/],
    ["url not a URL", (c) => (c.proxmox.url = "pve:8006"), "proxmox.url", /https/],
    ["token id format", (c) => (c.proxmox.tokenId = "root!cozy"), "proxmox.tokenId", /user@realm!name/],
    ["tenant name not DNS-1035", (c) => (c.tenants[0].name = "1demo"), "tenants[0].name", /DNS-1035/],
    ["kubernetes version format", (c) => (c.tenants[0].version = "1.32"), "tenants[0].version", /v1\.32\.6/],
    ["kubernetes version outside the profile", (c) => (c.tenants[0].version = "v1.35.0"), "tenants[0].version", /v1\.28 to v1\.33/],
    ["range outside the subnet", (c) => (c.network.addressRanges = [{ start: "10.0.0.100", end: "10.0.1.5" }]), "network.addressRanges[0]", /inside the subnet/],
    ["range start after end", (c) => (c.network.addressRanges = [{ start: "10.0.0.150", end: "10.0.0.100" }]), "network.addressRanges[0]", /after end/],
    ["gateway inside the ranges", (c) => (c.network.gateway = "10.0.0.150"), "network.gateway", /addressRanges/],
    ["tenants sharing addresses", (c) => c.tenants.push({ name: "other", version: "v1.32.6", nodeGroups: [{ name: "w" }] }), "tenants[1].addressRanges", /shares addresses/],
    ["tenant range outside the network's", (c) => (c.tenants[0].addressRanges = [{ start: "10.0.0.20", end: "10.0.0.30" }]), "tenants[0].addressRanges[0]", /inside one of network.addressRanges/],
    ["pod CIDR overlapping the node network", (c) => (c.cozystack.podCidr = "10.0.0.0/8"), "cozystack.podCidr", /overlaps the node network/],
    ["pod gateway outside the pod CIDR", (c) => (c.cozystack.podGateway = "10.250.0.1"), "cozystack.podGateway", /inside cozystack.podCidr/],
    ["CIDR with host bits", (c) => (c.cozystack.joinCidr = "100.64.0.1/16"), "cozystack.joinCidr", /host bits/],
    ["node group node not allowed", (c) => (c.tenants[0].nodeGroups[0].allowedNodes = ["pve7"]), "tenants[0].nodeGroups[0].allowedNodes[0]", /not in proxmox.allowedNodes/],
    ["control plane address among VM addresses", (c) => (c.tenants[0].controlPlane = { address: "10.0.0.120" }), "tenants[0].controlPlane.address", /VM could be given it/],
    ["match policy capmox v0.7 lacks", (c) => (c.proxmox.template = { tags: ["ubuntu"], matchPolicy: "bestSubset" }), "proxmox.template.matchPolicy", /only supports exact/],
    ["Talos template id and tags", (c) => (c.proxmox.talosTemplate = { templateId: 9100, sourceNode: "pve1", tags: ["talos"] }), "proxmox.talosTemplate", /exclusive/],
    ["Talos template match policy capmox v0.7 lacks", (c) => (c.proxmox.talosTemplate = { tags: ["talos"], matchPolicy: "bestSubset" }), "proxmox.talosTemplate.matchPolicy", /only supports exact/],
    ["format on a linked clone", (c) => Object.assign(c.proxmox, { fullClone: false, diskFormat: "qcow2" }), "proxmox.diskFormat", /full clones/],
    ["VLAN out of range", (c) => (c.proxmox.vlan = 5000), "proxmox.vlan", /<= 4094/],
    ["bad tag", (c) => (c.tenants[0].nodeGroups[0].tags = ["has space"]), "tenants[0].nodeGroups[0].tags[0]", /Proxmox tag/],
    ["bad label key", (c) => (c.tenants[0].nodeGroups[0].labels = { "bad key": "x" }), 'tenants[0].nodeGroups[0].labels["bad key"]', /label key/],
    ["enable and disable", (c) => Object.assign(c.cozystack, { bundleEnable: ["bootbox"], bundleDisable: ["bootbox"] }), "cozystack.bundleDisable[0]", /also in cozystack.bundleEnable/],
    ["unknown profile", (c) => (c.profile = "newest"), "profile", /one of: cozystack-v0.37, cozystack-v1.6, upstream/],
    ["cozystack-v1.6 without its section", (c) => (c.profile = "cozystack-v1.6"), "cozystackV1", /is required by profile cozystack-v1.6/],
    ["cozystackV1 under v0.37", (c) => (c.cozystackV1 = { source: { url: "oci://r.example/p" } }), "cozystackV1", /read only by profile cozystack-v1.6/],
    ["an OCI source URL without oci://", (c) => Object.assign(c, { profile: "cozystack-v1.6", cozystackV1: { source: { url: "https://r.example/p" } } }), "cozystackV1.source.url", /starts with oci:\/\//],
    ["a branch on an OCI source", (c) => Object.assign(c, { profile: "cozystack-v1.6", cozystackV1: { source: { url: "oci://r.example/p", branch: "main" } } }), "cozystackV1.source.branch", /tags, not branches/],
    ["health check timeout no duration", (c) => (c.tenants[0].nodeGroups[0].unhealthyTimeout = "5 minutes"), "tenants[0].nodeGroups[0].unhealthyTimeout", /duration like 5m/],
    ["node startup timeout CAPI refuses", (c) => (c.tenants[0].nodeGroups[0].nodeStartupTimeout = "10s"), "tenants[0].nodeGroups[0].nodeStartupTimeout", /at least 30s/],
    ["maxUnhealthy above 100%", (c) => (c.tenants[0].nodeGroups[0].maxUnhealthy = "150%"), "tenants[0].nodeGroups[0].maxUnhealthy", /percentage like 40%/],
  ];

  it.each(cases)("reports %s", (_name, change, path, message) => {
    const issues = issuesOf(userConfig(change));
    const found = issues.filter((i) => i.path === path);
    expect(found.map((i) => i.message).join(" | "), JSON.stringify(issues)).toMatch(message);
  });

  it("reports every mistake at once, each with its path and value", () => {
    const text = userConfig((c) => {
      c.tenants[0].nodeGroups[0].memoryMiB = 1001;
      c.proxmox.url = "https://pve:8006/api2/json";
      c.network.gateway = "10.0.0.150";
      c.tenants[0].version = "v2.0.0";
    });
    const error = (() => {
      try {
        parseConfig(text, "mine.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues.map((i) => i.path).sort()).toEqual(["network.gateway", "proxmox.url", "tenants[0].nodeGroups[0].memoryMiB", "tenants[0].version"]);
    expect(issues.find((i) => i.path.endsWith("memoryMiB"))!.value).toBe(1001);
    expect(message).toContain("mine.yaml: 4 problems");
    expect(message).toContain('tenants[0].nodeGroups[0].memoryMiB: 1001: must be a multiple of 8');
  });

  it("never shows a token secret, inline or pasted into the token id", () => {
    const secret = "0b5f1a4e-secret-value";
    const issues = issuesOf(
      userConfig((c) => {
        c.proxmox.secret = secret;
        c.proxmox.tokenId = `root@pam!cozy=${secret}`;
      }),
    );
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(["proxmox.secret", "proxmox.tokenId"]));
    expect(JSON.stringify(issues)).not.toContain(secret);
    expect(new ConfigError("x", issues).message).not.toContain(secret);
  });

  it("reports YAML syntax errors with their line and no source text", () => {
    const issues = issuesOf("proxmox:\n  url: [unclosed\n  secret: hunter2\n");
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.message).toMatch(/^line \d+, column \d+/);
    expect(JSON.stringify(issues)).not.toContain("hunter2");
  });

  it("rejects a document that is not a mapping", () => {
    expect(issuesOf("- a\n- b\n")[0]!.message).toMatch(/mapping/);
  });
});

describe("loading files and secrets", () => {
  it("loads a file and names it in errors", async () => {
    const good = join(dir, "good.yaml");
    await writeFile(good, printConfig());
    expect(await loadConfig({ file: good })).toStrictEqual(defaultConfig());
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, userConfig((c) => (c.network.prefix = 40)));
    await expect(loadConfig({ file: bad })).rejects.toThrow(/bad\.yaml: 1 problem\n {2}network\.prefix: 40: must be <= 32/);
  });

  it("fails on a missing file with a ConfigError", async () => {
    await expect(loadConfig({ file: join(dir, "absent.yaml") })).rejects.toBeInstanceOf(ConfigError);
  });

  it("checks the secret source only when credentials are required", async () => {
    await expect(loadConfig({ requireCredentials: true, env: {} })).rejects.toThrow(/proxmox\.secret\.env: "PROXMOX_SECRET": names an environment variable that is not set/);
    await expect(loadConfig({ requireCredentials: true, env: { PROXMOX_SECRET: "s3cret" } })).resolves.toBeDefined();
  });

  it("resolves the secret from the environment or a file, trimmed", async () => {
    const c = defaultConfig();
    expect(await resolveSecret(c.proxmox, { PROXMOX_SECRET: " abc \n" })).toBe("abc");
    const file = join(dir, "secret.txt");
    await writeFile(file, "from-file\n");
    expect(await resolveSecret({ ...c.proxmox, secret: { file } }, {})).toBe("from-file");
    await expect(resolveSecret(c.proxmox, { PROXMOX_SECRET: "  " })).rejects.toThrow(/empty secret/);
  });
});

describe("print", () => {
  it("round-trips a config with every optional field set", () => {
    const text = userConfig((c) => {
      Object.assign(c.proxmox, { vlan: 20, pool: "capi", diskFormat: "qcow2", tls: { fingerprint: Array(32).fill("AB").join(":") } });
      c.tenants[0].controlPlane.address = "10.0.0.20";
      c.tenants[0].sshAuthorizedKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ me@host"];
      c.tenants[0].nodeGroups[0].labels = { "node-role.kubernetes.io/worker": "" };
      Object.assign(c.tenants[0].nodeGroups[0], { nodeStartupTimeout: "0s", unhealthyTimeout: "1h30m", maxUnhealthy: "1" });
    });
    const c = parseConfig(text);
    expect(parseConfig(printConfig(c))).toStrictEqual(c);
    expect(parse(printConfig(c)).proxmox.template).toEqual({ templateId: 9000, sourceNode: "pve1" });
  });
});

describe("stages settings", () => {
  it("passes timeout overrides through to the stages", () => {
    const c = parseConfig(userConfig((c) => (c.stages = { timeouts: { "vm.agent": "90s", "poll.task": 250 } })));
    expect(c.stages).toEqual({ timeouts: { "vm.agent": "90s", "poll.task": 250 } });
  });

  it("rejects a timeout that is no duration, naming its path", () => {
    const issues = issuesOf(userConfig((c) => (c.stages = { timeouts: { "vm.agent": "soon" } })));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'stages.timeouts["vm.agent"]', value: "soon" });
    expect(issues[0]!.message).toContain("90s");
  });
});
