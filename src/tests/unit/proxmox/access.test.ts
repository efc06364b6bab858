import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { referencePath } from "../../../paths.js";
import { missingPrivileges, privilegesAt, type PermissionMap } from "../../../proxmox/index.js";

const recorded = (JSON.parse(readFileSync(referencePath("pve", "fixtures-derived", "access_permissions.json"), "utf8")) as {
  response: { body: { data: PermissionMap } };
}).response.body.data;

describe("privilegesAt", () => {
  it("uses the path's own entry, else what the nearest listed ancestor propagates", () => {
    const map: PermissionMap = { "/": { "Sys.Audit": 0 }, "/nodes": { "Sys.Audit": 1 }, "/vms": { "VM.Audit": 1, "VM.Allocate": 0 } };
    expect([...privilegesAt(map, "/")]).toEqual(["Sys.Audit"]);
    expect([...privilegesAt(map, "/nodes/pve1")]).toEqual(["Sys.Audit"]);
    expect([...privilegesAt(map, "/vms/101")]).toEqual(["VM.Audit"]);
    expect([...privilegesAt(map, "/storage/local")]).toEqual([]);
  });
});

describe("missingPrivileges on the recorded capmox token permissions", () => {
  it("finds nothing missing for what capmox needs on its pool and storage", () => {
    expect(
      missingPrivileges(recorded, [
        { path: "/", privs: ["Sys.Audit"] },
        { path: "/nodes/pve1", privs: ["Sys.Audit"] },
        { path: "/pool/capi", privs: ["VM.Allocate", "VM.Clone", "VM.PowerMgmt", "VM.GuestAgent.Audit"] },
        { path: "/storage/local-lvm", privs: ["Datastore.AllocateSpace"] },
      ]),
    ).toEqual([]);
  });

  it("lists what is missing, and any-of requirements as a whole", () => {
    expect(
      missingPrivileges(recorded, [
        { path: "/vms/101", privs: ["VM.Audit", "VM.Config.Disk"] },
        { path: "/storage/local", privs: ["Datastore.Audit", "Datastore.AllocateSpace"], any: true },
        { path: "/storage/local-lvm", privs: ["Datastore.Audit", "Datastore.AllocateSpace"], any: true },
      ]),
    ).toEqual([
      { path: "/vms/101", privs: ["VM.Audit", "VM.Config.Disk"] },
      { path: "/storage/local", privs: ["Datastore.Audit", "Datastore.AllocateSpace"] },
    ]);
  });
});
