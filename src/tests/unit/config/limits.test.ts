/**
 * Regressions of issue 12 (items 3-5): each case failed on the loader before the fix.
 * Input limits, secrets kept out of messages, and problems reported as config errors with
 * their field, not as internal errors.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { checkConfigText, checkCredentials, ConfigError, defaultConfig, loadConfig, parseConfig, resolveSecret, toUserForm, type ConfigIssue } from "../../../config/index.js";
import { ProxmoxConfigError, TokenCredentials } from "../../../proxmox/index.js";

function userConfig(change: (c: any) => void = () => undefined): string {
  const raw = structuredClone(toUserForm(defaultConfig())) as any;
  change(raw);
  return stringify(raw, { lineWidth: 0 });
}

function refusal(text: string): ConfigError {
  try {
    parseConfig(text, "platform.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("the config was accepted");
}

function at(issues: readonly ConfigIssue[], path: string): ConfigIssue[] {
  return issues.filter((i) => i.path === path);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "config-limits-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("size and complexity", () => {
  it("checks a map of 40k keys in linear time (uniqueKeys made it quadratic: tens of seconds)", () => {
    const labels = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, "v"]));
    const text = userConfig((c) => (c.tenants[0].nodeGroups[0].labels = labels));
    const started = performance.now();
    expect(checkConfigText(text).issues).toEqual([]);
    // generous: the quadratic check took ~25 s here, the linear one about 1 s
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("refuses text over 1 MiB before parsing it", () => {
    const text = `${userConfig()}# ${"x".repeat(1024 * 1024)}\n`;
    const error = refusal(text);
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(/\(config\): the config is \d+ bytes \(1\.0 MiB\): at most 1048576 bytes \(1\.0 MiB\) are accepted/);
  });

  it("refuses a file over 1 MiB, naming the file", async () => {
    const file = join(dir, "big.yaml");
    await writeFile(file, `${userConfig()}# ${"x".repeat(2 * 1024 * 1024)}\n`);
    await expect(loadConfig({ file })).rejects.toThrow(/big\.yaml: 1 problem\n {2}\(config\): the config is \d+ bytes \(2\.0 MiB\)/);
  });

  it("refuses an alias bomb as a config error naming where, not with a ReferenceError", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [prev, name] of [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"], ["e", "f"], ["f", "g"]]) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const error = refusal(`${levels.join("\n")}\n`);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toMatch(/^[a-g]\[\d+\]$/);
    expect(error.issues[0]!.message).toMatch(/^line \d+, column \d+: this alias expands the document to more than 100000 values/);
  });

  it("refuses nesting deeper than 64 levels without a stack overflow", () => {
    const error = refusal(`proxmox: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
    expect(error.issues[0]!.message).toMatch(/^line 1, column \d+: the document nests deeper than 64 levels/);
  });

  it("refuses an alias inside the value it names (a loop) instead of building a cyclic object", () => {
    const error = refusal("a: &a [1, *a]\n");
    expect(error.issues[0]).toMatchObject({ path: "a[1]" });
    expect(error.issues[0]!.message).toMatch(/loop/);
  });

  it("lists at most 50 problems in the message and counts the rest", () => {
    const labels = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`bad key ${i}`, "v"]));
    const error = refusal(userConfig((c) => (c.tenants[0].nodeGroups[0].labels = labels)));
    expect(error.issues).toHaveLength(80);
    expect(error.message.split("\n").filter((l) => l.startsWith("  tenants"))).toHaveLength(50);
    expect(error.message).toMatch(/ {2}… and 30 more problems$/);
  });
});

describe("secrets stay out of messages", () => {
  it("does not echo a secret when the YAML around it is broken", () => {
    const error = refusal(userConfig().replace("  secret:\n    env: PROXMOX_SECRET\n", "  secret: > 0b5f1a4e-hunter2\n"));
    expect(error.message).not.toContain("hunter2");
    expect(error.issues[0]).toMatchObject({ path: "proxmox.secret" });
    expect(error.issues[0]!.message).toMatch(/^line \d+, column \d+: unexpected text here/);
  });

  it("refuses a URL with credentials without printing them", () => {
    const error = refusal(userConfig((c) => (c.proxmox.url = "https://admin:hunter2@pve.example.com:8006")));
    expect(error.message).not.toMatch(/hunter2|admin/);
    expect(at(error.issues, "proxmox.url")[0]).toMatchObject({ value: "https://[redacted]@pve.example.com:8006/", message: expect.stringMatching(/must not carry credentials/) });
  });

  it("hides values and keys under secret-named keys anywhere, and userinfo in any string", () => {
    const error = refusal(
      userConfig((c) => {
        c.tenants[0].password = "hunter2";
        c.network.token = { hunter3: null };
        c.cozystack.colour = "see postgres://u:hunter4@db:5432/x";
      }),
    );
    expect(error.message).not.toMatch(/hunter[234]/);
    expect(at(error.issues, "tenants[0].password")[0]!.value).toBe("[redacted]");
  });
});

describe("errors name what is wrong", () => {
  it("names a duplicate key's path", () => {
    const error = refusal(userConfig().replace("  bridge: vmbr0\n", "  bridge: vmbr0\n  bridge: vmbr1\n"));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: "proxmox.bridge" });
    expect(error.issues[0]!.message).toMatch(/^line \d+, column 3: is given twice \(first on line \d+\)/);
  });

  it("shows 1e309 as Infinity, not null, and says it is out of range", () => {
    const error = refusal(userConfig().replace("        replicas: 2\n", "        replicas: 1e309\n"));
    expect(error.message).toContain("tenants[0].nodeGroups[0].replicas: Infinity: must be a finite number");
  });

  it("accepts a platform without tenants", () => {
    expect(parseConfig(userConfig((c) => (c.tenants = [])), "x").tenants).toEqual([]);
  });
});

describe("every name-like field has its real length limit", () => {
  const label = (n: number): string => "a".repeat(n);
  const dnsName = (n: number): string => [label(63), label(63), label(63), label(n - 3 * 64)].join(".");
  // field, setter, longest accepted value, shortest refused one
  const cases: [string, (c: any, v: string) => void, string, string][] = [
    ["cozystack.rootHost", (c, v) => (c.cozystack.rootHost = v), dnsName(253), dnsName(254)],
    ["cozystack.rootHost", (c, v) => (c.cozystack.rootHost = v), `${label(63)}.org`, `${label(64)}.org`],
    ["proxmox.allowedNodes[0]", (c, v) => (c.proxmox.allowedNodes[0] = v), label(63), label(64)],
    ["proxmox.bridge", (c, v) => (c.proxmox.bridge = v), `vmbr${"0".repeat(11)}`, `vmbr${"0".repeat(12)}`],
    ["proxmox.diskStorage", (c, v) => (c.proxmox.diskStorage = v), label(63), label(64)],
    ["proxmox.pool", (c, v) => (c.proxmox.pool = v), label(63), label(64)],
    ["proxmox.region", (c, v) => (c.proxmox.region = v), label(63), label(64)],
    ["proxmox.bootDevice", (c, v) => (c.proxmox.bootDevice = v), "scsi30", "scsi31"],
    ["proxmox.tokenId", (c, v) => (c.proxmox.tokenId = v), `${label(60)}@pam!${label(64)}`, `${label(61)}@pam!x1`],
    ["proxmox.tokenId", (c, v) => (c.proxmox.tokenId = v), `root@${label(32)}!x1`, `root@${label(33)}!x1`],
    ["proxmox.tokenId", (c, v) => (c.proxmox.tokenId = v), `root@pam!${label(64)}`, `root@pam!${label(65)}`],
    ["proxmox.url", (c, v) => (c.proxmox.url = v), `https://${dnsName(253)}:8006`, `https://${dnsName(254)}:8006`],
    ["proxmox.url", (c, v) => (c.proxmox.url = v), `https://${label(63)}.lan:8006`, `https://${label(64)}.lan:8006`],
    ["proxmox.url", (c, v) => (c.proxmox.url = v), "https://pve:8006", `https://pve:8006/${label(2048)}`],
    ["proxmox.secret.env", (c, v) => (c.proxmox.secret = { env: v }), label(255), label(256)],
    ["proxmox.secret.file", (c, v) => (c.proxmox.secret = { file: v }), `/${label(4095)}`, `/${label(4096)}`],
    ["proxmox.tls.caFile", (c, v) => (c.proxmox.tls = { caFile: v }), `/${label(4095)}`, `/${label(4096)}`],
    ["proxmox.template.tags[0]", (c, v) => (c.proxmox.template = { tags: [v] }), label(63), label(64)],
    ["cozystack.bundleEnable[0]", (c, v) => (c.cozystack.bundleEnable = [v]), label(53), label(54)],
    ["tenants[0].namespace", (c, v) => (c.tenants[0].namespace = v), label(63), label(64)],
    ["tenants[0].version", (c, v) => (c.tenants[0].version = v), "v1.32.6", `v1.32.${"6".repeat(27)}`],
    ["tenants[0].controlPlane.dataStore", (c, v) => (c.tenants[0].controlPlane.dataStore = v), label(63), label(64)],
    ["tenants[0].sshAuthorizedKeys[0]", (c, v) => (c.tenants[0].sshAuthorizedKeys = [v]), `ssh-ed25519 ${"A".repeat(16372)}`, `ssh-ed25519 ${"A".repeat(16373)}`],
    ["tenants[0].nodeGroups[0].tags[0]", (c, v) => (c.tenants[0].nodeGroups[0].tags = [v]), label(63), label(64)],
    ["tenants[0].nodeGroups[0].labels.x", (c, v) => (c.tenants[0].nodeGroups[0].labels = { x: v }), label(63), label(64)],
    ['stages.timeouts["vm.agent"]', (c, v) => (c.stages = { timeouts: { "vm.agent": v } }), "90s", `${"9".repeat(16)}s`],
  ];

  it.each(cases)("%s", (path, set, longest, tooLong) => {
    expect(checkConfigText(userConfig((c) => set(c, longest))).issues.filter((i) => i.path === path)).toEqual([]);
    const refused = checkConfigText(userConfig((c) => set(c, tooLong))).issues.filter((i) => i.path === path);
    expect(refused.length, `${tooLong.length} characters accepted`).toBeGreaterThan(0);
  });

  it("limits label keys: a prefix of at most 253, a name of at most 63", () => {
    const key = (prefix: string, name: string) => `${prefix}/${name}`;
    const ok = key([label(63), label(63), label(63), label(61)].join("."), label(63));
    const labelsIssues = (k: string) => checkConfigText(userConfig((c) => (c.tenants[0].nodeGroups[0].labels = { [k]: "v" }))).issues;
    expect(labelsIssues(ok)).toEqual([]);
    expect(labelsIssues(key([label(63), label(63), label(63), label(62)].join("."), "x"))).toHaveLength(1);
    expect(labelsIssues(key("example.com", label(64)))).toHaveLength(1);
    expect(labelsIssues(key(`${label(64)}.com`, "x"))).toHaveLength(1);
  });

  it("bounds the numbers that had no maximum", () => {
    const issues = checkConfigText(
      userConfig((c) => {
        Object.assign(c.tenants[0].nodeGroups[0], { replicas: 2 ** 31, minReplicas: 2 ** 31, maxReplicas: 2 ** 31, memoryMiB: 4 * 1024 * 1024 + 8 });
        c.stages = { timeouts: { "vm.agent": 2 ** 31 } };
      }),
    ).issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        "tenants[0].nodeGroups[0].replicas: must be <= 2147483647",
        "tenants[0].nodeGroups[0].minReplicas: must be <= 2147483647",
        "tenants[0].nodeGroups[0].maxReplicas: must be <= 2147483647",
        "tenants[0].nodeGroups[0].memoryMiB: must be <= 4194304",
        'stages.timeouts["vm.agent"]: must be <= 2147483647',
      ]),
    );
  });
});

describe("the token secret's text", () => {
  const secretValue = "0b5f1a4e-ünïcode-secret";

  it("is refused at load time naming the variable, never the value", async () => {
    const error = await loadConfig({ requireCredentials: true, env: { PROXMOX_SECRET: secretValue } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/proxmox\.secret\.env: "PROXMOX_SECRET": holds a secret with a non-ASCII character/);
    expect((error as Error).message).not.toContain("secret-");
    await expect(resolveSecret(defaultConfig().proxmox, { PROXMOX_SECRET: secretValue })).rejects.toThrow(/non-ASCII/);
  });

  it("is refused in a secret file, naming the file", async () => {
    const file = join(dir, "secret.txt");
    await writeFile(file, `${secretValue}\n`);
    const issues = await checkCredentials({ ...defaultConfig().proxmox, secret: { file } }, {});
    expect(issues).toEqual([{ path: "proxmox.secret.file", value: file, message: expect.stringMatching(/gives a secret with a non-ASCII character/) }]);
  });

  it("is refused by the Proxmox client when it is made, naming the field, not on the first request", () => {
    let error: unknown;
    try {
      new TokenCredentials("root@pam!cozy", secretValue);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProxmoxConfigError);
    expect((error as Error).message).toMatch(/^secret: the API token secret contains a non-ASCII or control character/);
    expect((error as Error).message).not.toContain("secret-");
  });
});
