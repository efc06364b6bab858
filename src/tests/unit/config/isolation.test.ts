import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { checkConfigText, defaultConfig, resolveTenantSecrets, tenantPool, tenantToken, toUserForm, vmIdsNeeded, type ConfigIssue } from "../../../config/index.js";

/** The built-in default in user form with a second tenant, after a change to the plain object. */
function twoTenants(change: (c: any) => void): ConfigIssue[] {
  const raw = structuredClone(toUserForm(defaultConfig())) as any;
  raw.tenants[0].addressRanges = [{ start: "10.0.0.100", end: "10.0.0.149" }];
  raw.tenants.push({ name: "other", version: "v1.32.6", addressRanges: [{ start: "10.0.0.150", end: "10.0.0.199" }], nodeGroups: [{ name: "w", replicas: 1, maxReplicas: 3 }] });
  change(raw);
  return checkConfigText(stringify(raw)).issues;
}

describe("tenant isolation in platform.yaml", () => {
  it("accepts two tenants with their own pools, disjoint ranges and tokens", () => {
    const issues = twoTenants((c) => {
      c.proxmox.managementVmIdRange = { start: 100, end: 999 };
      c.tenants[0].proxmox = { pool: "cozy-demo", vmIdRange: { start: 1000, end: 1009 }, tokenId: "cozy-demo@pve!capmox", secret: { env: "DEMO_SECRET" } };
      c.tenants[1].proxmox = { pool: "cozy-other", vmIdRange: { start: 1010, end: 1013 } };
    });
    expect(issues).toEqual([]);
  });

  it("refuses overlapping ranges naming both tenants", () => {
    const issues = twoTenants((c) => {
      c.tenants[0].proxmox = { vmIdRange: { start: 1000, end: 1009 } };
      c.tenants[1].proxmox = { vmIdRange: { start: 1005, end: 1020 } };
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("tenants[1].proxmox.vmIdRange");
    expect(issues[0]!.message).toBe("of tenant other overlaps tenants[0] (demo, 1000-1009): the two would take each other's VMIDs; give each its own range");
  });

  it("refuses a range inside another tenant's, whichever comes first in the file", () => {
    const issues = twoTenants((c) => {
      c.tenants[0].proxmox = { vmIdRange: { start: 1003, end: 1005 } };
      c.tenants[1].proxmox = { vmIdRange: { start: 1000, end: 1020 } };
    });
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["tenants[0].proxmox.vmIdRange", "of tenant demo overlaps tenants[1] (other, 1000-1020): the two would take each other's VMIDs; give each its own range"],
    ]);
  });

  it("refuses a range overlapping the management cluster's", () => {
    const issues = twoTenants((c) => {
      c.proxmox.managementVmIdRange = { start: 100, end: 1000 };
      c.tenants[1].proxmox = { vmIdRange: { start: 1000, end: 1010 } };
    });
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["tenants[1].proxmox.vmIdRange", "of tenant other overlaps proxmox.managementVmIdRange (100-1000): the two would take each other's VMIDs; give each its own range"],
    ]);
  });

  it("refuses a range smaller than maxReplicas plus one surge machine per group, with the numbers", () => {
    const issues = twoTenants((c) => {
      c.tenants[1].nodeGroups.push({ name: "big", replicas: 1 });
      c.tenants[1].proxmox = { vmIdRange: { start: 2000, end: 2004 } };
    });
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["tenants[1].proxmox.vmIdRange", "holds 5 VMIDs, tenant other needs at least 6 (maxReplicas plus one surge machine per node group: w 3+1, big 1+1)"],
    ]);
  });

  it("refuses a range that holds the template, start after end, and a shared pool naming both tenants", () => {
    const issues = twoTenants((c) => {
      c.tenants[0].proxmox = { pool: "tenants", vmIdRange: { start: 8995, end: 9005 } };
      c.tenants[1].proxmox = { pool: "tenants", vmIdRange: { start: 3000, end: 2990 } };
    });
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["tenants[0].proxmox.vmIdRange", "contains the template's VMID 9000 (proxmox.template.templateId)"],
      ["tenants[1].proxmox.vmIdRange", "start (3000) must not be after end (2990)"],
      ["tenants[1].proxmox.pool", "is also the pool of tenants[0] (demo): tenants[1] (other) and tenants[0] (demo) could act on each other's VMs; give each its own pool"],
    ]);
  });

  it("wants a secret source with a tenant token, never an inline secret, and none without a token", () => {
    expect(twoTenants((c) => (c.tenants[0].proxmox = { pool: "cozy-demo", tokenId: "cozy-demo@pve!capmox" })).map((i) => i.path)).toEqual(["tenants[0].proxmox.secret"]);
    expect(twoTenants((c) => (c.tenants[0].proxmox = { tokenId: "cozy-demo@pve!capmox", secret: { env: "S" } })).map((i) => [i.path, i.message])).toEqual([
      ["tenants[0].proxmox.pool", "is required with tenants[0].proxmox.tokenId: tenant demo's own token is limited to its own pool"],
    ]);
    const inline = twoTenants((c) => (c.tenants[0].proxmox = { pool: "cozy-demo", tokenId: "cozy-demo@pve!capmox", secret: "0b5f1a4e-aaaa" }));
    expect(inline.map((i) => i.path)).toContain("tenants[0].proxmox.secret");
    expect(JSON.stringify(inline)).not.toContain("0b5f1a4e-aaaa");
    expect(twoTenants((c) => (c.tenants[0].proxmox = { secret: { env: "X" } })).map((i) => [i.path, i.message])).toEqual([
      ["tenants[0].proxmox.secret", "only applies with tokenId (the tenant's own token)"],
    ]);
    expect(twoTenants((c) => (c.tenants[0].proxmox = { vmIdRange: { start: 50, end: 60 } })).map((i) => i.path)).toEqual([
      "tenants[0].proxmox.vmIdRange.start",
      "tenants[0].proxmox.vmIdRange.end",
    ]);
  });

  it("resolves pool, token and size, and reads each tenant's secret from its own source", async () => {
    const base = defaultConfig();
    const demo = { ...base.tenants[0]!, proxmox: { pool: "cozy-demo", tokenId: "cozy-demo@pve!capmox", secret: { env: "DEMO_SECRET" } } };
    const shared = { ...base.tenants[0]!, name: "shared" };
    const config = { ...base, proxmox: { ...base.proxmox, pool: "capi" }, tenants: [demo, shared] };
    expect(tenantPool(config, demo)).toBe("cozy-demo");
    expect(tenantPool(config, shared)).toBe("capi");
    expect(tenantToken(config, demo)).toEqual({ tokenId: "cozy-demo@pve!capmox", secret: { env: "DEMO_SECRET" }, shared: false });
    expect(tenantToken(config, shared)).toEqual({ tokenId: "root@pam!cozy", secret: { env: "PROXMOX_SECRET" }, shared: true });
    expect(vmIdsNeeded(demo)).toBe(3);
    expect(await resolveTenantSecrets(config, { DEMO_SECRET: " 7c1e2f40-1111-4a2b-9c3d-0123456789ab\n" })).toEqual({ demo: "7c1e2f40-1111-4a2b-9c3d-0123456789ab" });
    await expect(resolveTenantSecrets(config, {})).rejects.toThrow(/tenants\[0\]\.proxmox\.secret\.env: "DEMO_SECRET": names an environment variable that is not set/);
  });
});
