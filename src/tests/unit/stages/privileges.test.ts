import { describe, expect, it } from "vitest";
import {
  type PathContext,
  describeGaps,
  effectiveAt,
  expandPath,
  findGaps,
  privilegeForRelease,
  pveumCommands,
  requiredPaths,
  roleName,
} from "../../../privileges/index.js";

const ctx: PathContext = {
  allowedNodes: ["pve1", "pve2"],
  pool: "capi",
  templateIds: [9000],
  diskStorage: "local-lvm",
  isoStorage: "local",
  bridge: "vmbr0",
  vlan: 20,
};

const vmAdmin = [
  "VM.Audit", "VM.Allocate", "VM.Clone", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Disk", "VM.Config.Network",
  "VM.Config.Options", "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Config.HWType", "VM.PowerMgmt",
  "VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted",
];
const grant = (privs: string[], propagate: 0 | 1 = 1) => Object.fromEntries(privs.map((p) => [p, propagate]));

/** What a least-privilege setup per capmox's docs grants (PVE 9). */
function complete(): Record<string, Record<string, 0 | 1>> {
  return {
    "/": grant(["Sys.Audit"], 0),
    "/nodes/pve1": grant(["Sys.Audit"]),
    "/nodes/pve2": grant(["Sys.Audit"]),
    "/pool/capi": grant(vmAdmin),
    "/vms/9000": grant(["VM.Audit", "VM.Clone"]),
    "/storage/local-lvm": grant(["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit"]),
    "/storage/local": grant(["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"]),
    "/sdn/zones/localnetwork/vmbr0/20": grant(["SDN.Use"]),
  };
}

describe("privilege requirements", () => {
  it("expands paths from the config", () => {
    expect(expandPath("vm-target", ctx)).toEqual(["/pool/capi"]);
    expect(expandPath("vm-target", { ...ctx, pool: undefined })).toEqual(["/vms"]);
    expect(expandPath("node", ctx)).toEqual(["/nodes/pve1", "/nodes/pve2"]);
    expect(expandPath("sdn-bridge", ctx)).toEqual(["/sdn/zones/localnetwork/vmbr0/20"]);
    expect(expandPath("template", { ...ctx, templateIds: [] })).toEqual(["/vms"]);
    expect(requiredPaths(ctx)).toContain("/storage/local");
  });

  it("finds nothing missing for a complete least-privilege token", () => {
    for (const consumer of ["capmox", "csi", "ccm"] as const) expect(findGaps(consumer, complete(), ctx, 9)).toEqual([]);
  });

  it("reports exactly VM.Clone on the template when it is missing, for capmox only", () => {
    const perms = complete();
    perms["/vms/9000"] = grant(["VM.Audit"]);
    const gaps = findGaps("capmox", perms, ctx, 9);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ path: "/vms/9000", missing: ["VM.Clone"], kind: "template" });
    expect(findGaps("csi", perms, ctx, 9)).toEqual([]);
    expect(findGaps("ccm", perms, ctx, 9)).toEqual([]);
    expect(describeGaps(gaps)).toBe("/vms/9000: missing VM.Clone (capmox reads and clones the VM template)");
  });

  it("requires propagation where new VMs must inherit", () => {
    const perms = complete();
    perms["/pool/capi"] = grant(vmAdmin, 0);
    const gaps = findGaps("capmox", perms, ctx, 9);
    expect(gaps[0]?.notPropagated).toContain("VM.Allocate");
    expect(describeGaps(gaps)).toContain("granted without propagate");
  });

  it("uses PVE 8 names: VM.Monitor instead of the guest agent privileges", () => {
    expect(privilegeForRelease("VM.GuestAgent.Audit", 8)).toBe("VM.Monitor");
    expect(privilegeForRelease("VM.GuestAgent.Audit", 9)).toBe("VM.GuestAgent.Audit");
    const perms = complete();
    const pve8Vm = [...vmAdmin.filter((p) => !p.startsWith("VM.GuestAgent")), "VM.Monitor"];
    perms["/pool/capi"] = grant(pve8Vm);
    expect(findGaps("capmox", perms, ctx, 8)).toEqual([]);
    const gaps9 = findGaps("capmox", perms, ctx, 9);
    expect(gaps9[0]?.missing).toEqual(["VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"]);
  });

  it("marks the CCM's guest-agent privilege optional", () => {
    const perms = complete();
    perms["/pool/capi"] = grant(vmAdmin.filter((p) => p !== "VM.GuestAgent.Audit"));
    const ccm = findGaps("ccm", perms, ctx, 9);
    expect(ccm).toHaveLength(1);
    expect(ccm[0]?.optional).toContain("qemu or auto");
  });

  it("inherits from the nearest listed ancestor only what propagates", () => {
    const map = { "/": { "Sys.Audit": 0 as const, "VM.Audit": 1 as const } };
    expect(effectiveAt(map, "/vms/100")).toEqual({ "VM.Audit": 1 });
    expect(effectiveAt(map, "/")).toEqual(map["/"]);
  });

  it("writes exact pveum commands: a role per consumer and path kind, the ACL for token and/or user", () => {
    const perms = complete();
    perms["/vms/9000"] = grant(["VM.Audit"]);
    delete perms["/"];
    const gaps = findGaps("capmox", perms, ctx, 9);
    const both = pveumCommands(gaps, "capmox@pve!capi", undefined);
    expect(both).toContain(`pveum role add ${roleName("capmox", "template")} -privs "VM.Audit VM.Clone"   # if it exists: pveum role modify CozyCapmoxTemplate -privs "VM.Audit VM.Clone"`);
    expect(both).toContain("pveum acl modify /vms/9000 -token 'capmox@pve!capi' -role CozyCapmoxTemplate");
    expect(both).toContain("pveum acl modify /vms/9000 -user capmox@pve -role CozyCapmoxTemplate");
    expect(both).toContain("pveum acl modify / -token 'capmox@pve!capi' -role CozyCapmoxRoot -propagate 0");
    expect(both.at(-1)).toContain("privilege separation is unknown");
    const userOnly = pveumCommands(gaps, "capmox@pve!capi", false);
    expect(userOnly.some((l) => l.includes("-token"))).toBe(false);
    expect(userOnly.filter((l) => l.startsWith("pveum acl")).length).toBe(2);
    const tokenAndUser = pveumCommands(gaps, "capmox@pve!capi", true);
    expect(tokenAndUser.filter((l) => l.startsWith("pveum acl")).length).toBe(4);
    expect(tokenAndUser.some((l) => l.startsWith("#"))).toBe(false);
  });
});
