/**
 * `npm run tenant-access` against a lab over HTTPS: the printed plan, refusing to run when a
 * new secret has nowhere to go, applying with the administrator token (secrets only in the
 * files named, never printed), a second run changing nothing, and the tokens it made working
 * as PVE would let them: alpha clones into its pool, beta cannot touch alpha's VM.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantAccessMain } from "../../../cli/tenant-access.js";
import { printConfig } from "../../../config/index.js";
import { startLab, type LabHandle } from "../../../lab/index.js";
import { call, waitTask } from "../lab/helpers.js";
import { runStage } from "../../../stages/index.js";
import { labClient, stageInput } from "../stages/lab-setup.js";
import { isolatedConfig } from "./isolated-config.js";

let lab: LabHandle;
let dir: string;
let configFile: string;
const alphaSecret = (): string => join(dir, "alpha.secret");

beforeAll(async () => {
  lab = await startLab({ taskDurationMs: 5 });
  dir = await mkdtemp(join(tmpdir(), "tenant-access-"));
  configFile = join(dir, "platform.yaml");
  await writeFile(configFile, printConfig(isolatedConfig(lab, alphaSecret())));
});
afterAll(async () => {
  await lab?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  let out = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  const adminEnv = { PROXMOX_TOKEN: lab.tokens.admin.id, PROXMOX_SECRET: lab.tokens.admin.secret, ...env };
  const code = await tenantAccessMain(["--config", configFile, ...args], { env: adminEnv, stdout: stream, stderr: stream });
  return { code, out };
}

/** Every token secret the lab holds: none may appear in the output. */
const labSecrets = (): string[] => [...lab.state.tokens.values()].map((t) => t.secret);

describe("npm run tenant-access", () => {
  it("prints each isolated tenant's pveum commands without touching Proxmox", async () => {
    const { code, out } = await run([]);
    expect(code).toBe(0);
    expect(out).toContain("# tenant alpha\npveum pool add cozy-alpha --comment 'cozy-proxmox tenant alpha'\npveum user add cozy-alpha@pve");
    expect(out).toContain("pveum user token add cozy-beta@pve capmox --privsep 1");
    expect(out).toContain("pveum acl modify /pool/cozy-beta --tokens 'cozy-beta@pve!capmox' --roles PVEVMAdmin --propagate 1");
    expect(out).toContain("pveum acl modify / --users 'cozy-alpha@pve' --roles PVEAuditor --propagate 0");
    expect(lab.state.pools.has("cozy-alpha")).toBe(false);
  });

  it("refuses to apply when a new secret has nowhere to go, before any change", async () => {
    const { code, out } = await run(["--apply"]);
    expect(code).toBe(2);
    expect(out).toContain("tenants[1].proxmox.secret is {env: BETA_PROXMOX_SECRET}: give --secrets-dir <dir>");
    expect(lab.state.pools.has("cozy-alpha")).toBe(false);
  });

  it("applies with the admin token, writes each secret only where told (0600), prints none, and a second run changes nothing", async () => {
    const secrets = join(dir, "secrets");
    const first = await run(["--apply", "--secrets-dir", secrets]);
    expect(first.out).toMatch(/done: \d+ change\(s\) made/);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`created  pveum user token add cozy-alpha@pve capmox --privsep 1 --comment 'cozy-proxmox tenant alpha'\n         secret written to ${alphaSecret()}`);
    expect(first.out).toContain(`secret written to ${join(secrets, "beta.secret")}`);
    for (const secret of labSecrets()) expect(first.out).not.toContain(secret);
    expect((await stat(alphaSecret())).mode & 0o777).toBe(0o600);
    expect((await readFile(alphaSecret(), "utf8")).trim()).toBe(lab.state.tokens.get("cozy-alpha@pve!capmox")?.secret);
    expect(lab.state.tokens.get("cozy-beta@pve!capmox")?.privsep).toBe(true);
    expect(lab.state.acl.filter((e) => e.ugid === "cozy-beta@pve!capmox").map((e) => `${e.path} ${e.role} ${e.propagate}`)).toEqual([
      "/pool/cozy-beta PVEVMAdmin true",
      "/vms/9000 PVETemplateUser false",
      "/storage/ceph-vm PVEDatastoreAdmin false",
      "/storage/local PVEDatastoreAdmin false",
      "/sdn/zones/localnetwork/vmbr0 PVESDNUser false",
      "/nodes/pve1 PVEAuditor false",
      "/nodes/pve2 PVEAuditor false",
      "/nodes/pve3 PVEAuditor false",
      "/ PVEAuditor false",
    ]);
    const aclCount = lab.state.acl.length;
    const second = await run(["--apply", "--secrets-dir", secrets]);
    expect(second.code).toBe(0);
    expect(second.out).toContain("done: nothing to change");
    expect(second.out).not.toContain("created");
    expect(lab.state.acl.length).toBe(aclCount);
  });

  it("gives tokens that clone into their own pool and cannot touch the other tenant's VM", async () => {
    const alpha = { id: "cozy-alpha@pve!capmox", secret: (await readFile(alphaSecret(), "utf8")).trim() };
    const beta = { id: "cozy-beta@pve!capmox", secret: (await readFile(join(dir, "secrets", "beta.secret"), "utf8")).trim() };
    const cloned = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { token: alpha, json: { newid: 1000, name: "alpha-0", full: 1, storage: "ceph-vm", target: "pve3", pool: "cozy-alpha" } });
    expect(cloned.status).toBe(200);
    await waitTask(lab, cloned.body?.data as string);
    const destroy = await call(lab, "DELETE", "/nodes/pve3/qemu/1000", { token: beta });
    expect([destroy.status, destroy.statusText]).toEqual([403, "Permission check failed (/vms/1000, VM.Allocate)"]);
    expect(lab.state.vms.has(1000)).toBe(true);
  });

  it("fails a token that exists without its secret file, naming the fix", async () => {
    await rm(alphaSecret());
    const { code, out } = await run(["--apply", "--secrets-dir", join(dir, "secrets")]);
    expect(code).toBe(1);
    expect(out).toContain(`the token exists but ${alphaSecret()} does not hold its secret`);
    expect(out).toContain("pveum user token remove cozy-alpha@pve capmox");
  });
});

describe("stage 1 per tenant, after tenant-access", () => {
  const tenantCheck = async (config = isolatedConfig(lab, alphaSecret())) => {
    const api = labClient(lab);
    try {
      const result = await runStage(1, stageInput(lab, config, api));
      return result.checks.find((c) => c.id === "api.tenants")!;
    } finally {
      api.close();
    }
  };

  it("passes for tenants with their own least-privileged tokens", async () => {
    const check = await tenantCheck();
    expect(check.verdict).toBe("passed");
    expect(check.detail).toBe("tenants alpha, beta: own token, what capmox, CSI and CCM need in their pools and nothing on VMs outside them");
  });

  it("names an excessive privilege on another tenant's pool and on /vms with the exact pveum acl delete commands", async () => {
    lab.state.acl.push(
      { path: "/pool/cozy-beta", role: "PVEVMUser", ugid: "cozy-alpha@pve", kind: "user", propagate: true },
      { path: "/pool/cozy-beta", role: "PVEVMUser", ugid: "cozy-alpha@pve!capmox", kind: "token", propagate: true },
      { path: "/", role: "PVEVMAdmin", ugid: "cozy-alpha@pve", kind: "user", propagate: true },
      { path: "/", role: "PVEVMAdmin", ugid: "cozy-alpha@pve!capmox", kind: "token", propagate: true },
    );
    const check = await tenantCheck();
    lab.state.acl = lab.state.acl.filter((e) => !((e.path === "/pool/cozy-beta" && e.role === "PVEVMUser") || (e.path === "/" && e.role === "PVEVMAdmin")));
    expect(check.verdict).toBe("failed");
    expect(check.reason).toContain("tenant alpha: /vms: holds VM.Allocate, VM.Backup,");
    // the deeper ACL replaces what / gives there (PVE: the more specific path wins): PVEVMUser only
    expect(check.reason).toContain("/pool/cozy-beta: holds VM.Backup, VM.Config.CDROM, VM.Config.Cloudinit, VM.Console, VM.PowerMgmt outside its pool cozy-alpha");
    expect(check.reason).toContain("outside its pool cozy-alpha");
    expect(check.reason).not.toContain("tenant beta");
    expect(check.fix).toContain("pveum acl delete / --users 'cozy-alpha@pve' --roles PVEVMAdmin");
    expect(check.fix).toContain("pveum acl delete / --tokens 'cozy-alpha@pve!capmox' --roles PVEVMAdmin");
    expect(check.fix).toContain("pveum acl delete /pool/cozy-beta --tokens 'cozy-alpha@pve!capmox' --roles PVEVMUser");
  });

  it("names a missing privilege with the pveum command of the plan's ACL", async () => {
    const removed = lab.state.acl.filter((e) => e.ugid === "cozy-beta@pve!capmox" && e.path === "/sdn/zones/localnetwork/vmbr0");
    lab.state.acl = lab.state.acl.filter((e) => !removed.includes(e));
    const check = await tenantCheck();
    lab.state.acl.push(...removed);
    expect(check.verdict).toBe("failed");
    expect(check.reason).toBe("tenant beta: /sdn/zones/localnetwork/vmbr0: missing SDN.Use (capmox attaches VM NICs to the bridge (PVE 8+ checks SDN.Use on it))");
    expect(check.fix).toContain("pveum acl modify /sdn/zones/localnetwork/vmbr0 --tokens 'cozy-beta@pve!capmox' --roles PVESDNUser --propagate 0");
  });

  it("warns, never passes, when a tenant uses the shared token", async () => {
    const config = isolatedConfig(lab, alphaSecret());
    const shared = { ...config, tenants: [config.tenants[0]!, { ...config.tenants[1]!, proxmox: { pool: "cozy-beta" } }] };
    const check = await tenantCheck(shared);
    expect(check.verdict).toBe("warning");
    expect(check.reason).toContain("tenant beta uses the shared token root@pam!cozy: not isolated from other tenants' VMs or the management cluster's VMs");
    expect(check.detail).toContain("tenants alpha: own token");
    // a lone tenant on the platform's token is still a warning: that token reaches the management cluster's VMs
    const lone = { ...config, tenants: [{ ...config.tenants[1]!, proxmox: { pool: "cozy-beta" } }] };
    const { managementVmIdRange: _range, ...proxmox } = lone.proxmox;
    const alone = await tenantCheck({ ...lone, proxmox });
    expect(alone.verdict).toBe("warning");
    expect(alone.reason).toContain("tenant beta uses the shared token root@pam!cozy: not isolated from the management cluster's VMs");
  });
});
