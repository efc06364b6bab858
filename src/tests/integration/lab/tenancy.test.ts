/**
 * Tenants isolated by pools, privilege-separated tokens and ACLs, through the lab's HTTP API as
 * PVE serves them: a pool with a storage, a user and a token whose secret is returned once,
 * ACLs with PVE's built-in roles on /pool/<id> reaching member VMs and storages, a token's
 * privileges intersected with its user's, /cluster/resources filtered by what a token may
 * audit, cloning into a pool needing VM.Allocate there, and one tenant's token refused on
 * another tenant's VM with PVE's 403.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type LabHandle, type LabToken } from "../../../lab/index.js";
import { call, data, waitTask } from "./helpers.js";

let lab: LabHandle;
beforeAll(async () => {
  lab = await startLab({ http: true, taskDurationMs: 5 });
});
afterAll(async () => {
  await lab?.stop();
});

/** A tenant as the plan makes it: pool (+ disk storage), user, privsep token, ACLs for user and token. */
async function tenant(name: string): Promise<LabToken> {
  const user = `cozy-${name}@pve`;
  await data(lab, "POST", "/pools", { json: { poolid: `cozy-${name}` } });
  await data(lab, "PUT", "/pools", { json: { poolid: `cozy-${name}`, storage: "ceph-vm" } });
  await data(lab, "POST", "/access/users", { json: { userid: user } });
  const made = await data<{ "full-tokenid": string; value: string; info: { privsep: number } }>(lab, "POST", `/access/users/${encodeURIComponent(user)}/token/capmox`, { json: {} });
  expect(made["full-tokenid"]).toBe(`${user}!capmox`);
  expect(made.info.privsep).toBe(1);
  for (const ugid of [{ users: user }, { tokens: made["full-tokenid"] }]) {
    await data(lab, "PUT", "/access/acl", { json: { path: `/pool/cozy-${name}`, roles: "PVEVMAdmin,PVEDatastoreUser", ...ugid } });
    await data(lab, "PUT", "/access/acl", { json: { path: "/vms/9000", roles: "PVETemplateUser", ...ugid } });
    await data(lab, "PUT", "/access/acl", { json: { path: "/sdn/zones/localnetwork/vmbr0", roles: "PVESDNUser", ...ugid } });
  }
  return { id: made["full-tokenid"], secret: made.value };
}

function clone(token: LabToken, newid: number, pool?: string) {
  return call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { token, json: { newid, name: `vm-${newid}`, full: 1, storage: "ceph-vm", target: "pve2", ...(pool ? { pool } : {}) } });
}

describe("tenants isolated by pools and privilege-separated tokens", () => {
  let a: LabToken;
  let b: LabToken;

  beforeAll(async () => {
    a = await tenant("a");
    b = await tenant("b");
  });

  it("returns a token's secret only once; reading it back gives no value", async () => {
    const read = await data<Record<string, unknown>>(lab, "GET", `/access/users/${encodeURIComponent("cozy-a@pve")}/token/capmox`);
    expect(read).toEqual({ privsep: 1, expire: 0 });
    const again = await call(lab, "POST", `/access/users/${encodeURIComponent("cozy-a@pve")}/token/capmox`, { json: {} });
    expect([again.status, again.statusText]).toEqual([500, "Token already exists."]);
    const tokens = await data<Array<Record<string, unknown>>>(lab, "GET", `/access/users/${encodeURIComponent("cozy-a@pve")}/token`);
    expect(tokens).toEqual([{ tokenid: "capmox", privsep: 1, expire: 0 }]);
    expect(JSON.stringify(tokens)).not.toContain(a.secret);
  });

  it("clones into its own pool (VM.Allocate there), never outside a pool it may allocate in", async () => {
    const outside = await clone(a, 1000);
    expect([outside.status, outside.statusText]).toEqual([403, "Permission check failed"]);
    const other = await clone(a, 1000, "cozy-b");
    expect(other.status).toBe(403);
    const own = await clone(a, 1000, "cozy-a");
    expect(own.status).toBe(200);
    await waitTask(lab, own.body?.data as string);
    const bOwn = await clone(b, 1100, "cozy-b");
    expect(bOwn.status).toBe(200);
    await waitTask(lab, bOwn.body?.data as string);
    const members = await data<{ members: Array<{ id: string }> }>(lab, "GET", "/pools/cozy-a");
    expect(members.members.map((m) => m.id)).toEqual(["qemu/1000", "storage/pve1/ceph-vm", "storage/pve2/ceph-vm", "storage/pve3/ceph-vm"]);
  });

  it("refuses tenant A's token on tenant B's VM with PVE's 403, and B's VM stays", async () => {
    const destroy = await call(lab, "DELETE", "/nodes/pve2/qemu/1100", { token: a });
    expect([destroy.status, destroy.statusText]).toEqual([403, "Permission check failed (/vms/1100, VM.Allocate)"]);
    const stop = await call(lab, "POST", "/nodes/pve2/qemu/1100/status/stop", { token: a });
    expect([stop.status, stop.statusText]).toEqual([403, "Permission check failed (/vms/1100, VM.PowerMgmt)"]);
    const config = await call(lab, "POST", "/nodes/pve2/qemu/1100/config", { token: a, json: { memory: 512 } });
    expect(config.status).toBe(403);
    expect(lab.state.vms.has(1100)).toBe(true);
    // B itself may
    const own = await call(lab, "GET", "/nodes/pve2/qemu/1100/config", { token: b });
    expect(own.status).toBe(200);
  });

  it("shows a token in /cluster/resources only what it may audit", async () => {
    const vms = await data<Array<{ vmid: number }>>(lab, "GET", "/cluster/resources?type=vm", { token: a });
    expect(vms.map((v) => v.vmid)).toEqual([1000, 9000]);
    const poolIds = async (): Promise<string[]> =>
      (await data<Array<{ id: string }>>(lab, "GET", "/cluster/resources", { token: b })).filter((r) => r.id.startsWith("pool/")).map((r) => r.id);
    expect(await poolIds()).toEqual([]); // PVEVMAdmin has no Pool.Audit
    for (const ugid of [{ users: "cozy-b@pve" }, { tokens: b.id }]) await data(lab, "PUT", "/access/acl", { json: { path: "/pool/cozy-b", roles: "PVEPoolUser", ...ugid } });
    expect(await poolIds()).toEqual(["pool/cozy-b"]);
    const storages = await data<Array<{ storage: string }>>(lab, "GET", "/cluster/resources?type=storage", { token: a });
    expect([...new Set(storages.map((s) => s.storage))]).toEqual(["ceph-vm"]); // through its pool only
  });

  it("lets /pool/<id> ACLs reach member storages, and a token's privileges never exceed its user's", async () => {
    const perms = await data<Record<string, Record<string, number>>>(lab, "GET", `/access/permissions?path=${encodeURIComponent("/storage/ceph-vm")}`, { token: a });
    expect(perms["/storage/ceph-vm"]).toMatchObject({ "Datastore.AllocateSpace": 1, "Datastore.Audit": 1 });
    const local = await data<Record<string, Record<string, number>>>(lab, "GET", `/access/permissions?path=${encodeURIComponent("/storage/local-lvm")}`, { token: a });
    expect(local["/storage/local-lvm"]).toEqual({});
    // a token granted a pool whose user has nothing there gets nothing
    await data(lab, "PUT", "/access/acl", { json: { path: "/pool/cozy-b", roles: "PVEVMAdmin", tokens: a.id } });
    const stillRefused = await call(lab, "DELETE", "/nodes/pve2/qemu/1100", { token: a });
    expect(stillRefused.status).toBe(403);
    await data(lab, "PUT", "/access/acl", { json: { path: "/pool/cozy-b", roles: "PVEVMAdmin", tokens: a.id, delete: 1 } });
  });

  it("checks the plan's inputs as PVE does", async () => {
    const unknownRole = await call(lab, "PUT", "/access/acl", { json: { path: "/pool/cozy-a", roles: "PVEVMAdmins", users: "cozy-a@pve" } });
    expect([unknownRole.status, unknownRole.statusText]).toEqual([500, "role 'PVEVMAdmins' does not exist"]);
    const badPath = await call(lab, "PUT", "/access/acl", { json: { path: "/pools/cozy-a", roles: "PVEVMAdmin", users: "cozy-a@pve" } });
    expect([badPath.status, badPath.statusText]).toEqual([500, "invalid ACL path '/pools/cozy-a'"]);
    const twice = await call(lab, "POST", "/pools", { json: { poolid: "cozy-a" } });
    expect([twice.status, twice.statusText]).toEqual([500, "create pool failed: pool 'cozy-a' already exists"]);
    const member = await call(lab, "PUT", "/pools", { json: { poolid: "cozy-a", storage: "ceph-vm" } });
    expect([member.status, member.statusText]).toEqual([500, "Storage 'ceph-vm' is already a pool member"]);
    const notEmpty = await call(lab, "DELETE", "/pools/cozy-a");
    expect([notEmpty.status, notEmpty.statusText]).toEqual([500, "pool 'cozy-a' is not empty"]);
    // a tenant token may not make users or grant itself more
    const user = await call(lab, "POST", "/access/users", { token: a, json: { userid: "evil@pve" } });
    expect([user.status, user.statusText]).toEqual([403, "Permission check failed (/access/realm/pve, Realm.AllocateUser)"]);
    const grant = await call(lab, "PUT", "/access/acl", { token: a, json: { path: "/", roles: "Administrator", tokens: a.id } });
    expect(grant.status).toBe(403);
    const acl = await data<Array<Record<string, unknown>>>(lab, "GET", "/access/acl", { token: a });
    expect(acl).toEqual([]);
  });
});
