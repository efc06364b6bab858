/**
 * The PVE built-in roles a tenant's token is granted, and on which ACL path kind each one is
 * granted. The privileges per path kind come from stage 1's requirement table (what capmox,
 * the CSI plugin and the CCM call), so the plan grants exactly what stage 1 checks; a unit
 * test holds each role to covering its path kind's requirements.
 */
import type { PathKind } from "../privileges/index.js";

/** PVE 9's built-in roles used here, with their privileges (pveum role list). */
export const builtinRoles = {
  // every *.Audit privilege (PVE 9 adds VM.GuestAgent.Audit)
  PVEAuditor: ["Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit", "VM.Audit", "VM.GuestAgent.Audit"],
  PVEVMAdmin: [
    "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit",
    "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console",
    "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
  ],
  PVETemplateUser: ["VM.Audit", "VM.Clone"],
  PVEDatastoreAdmin: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"],
  PVEDatastoreUser: ["Datastore.AllocateSpace", "Datastore.Audit"],
  PVESDNUser: ["SDN.Audit", "SDN.Use"],
} as const satisfies Record<string, readonly string[]>;

export type BuiltinRole = keyof typeof builtinRoles;

/**
 * The role granted on each path kind, and whether it propagates. Sys.Audit on `/` must not
 * propagate (it would reach every VM and storage); on the pool it must (new VMs join it).
 * Storages get PVEDatastoreAdmin: capmox deletes its cloud-init ISOs and the CSI plugin its
 * volumes, both need Datastore.Allocate there.
 */
export const roleForPath: Readonly<Record<PathKind, { readonly role: BuiltinRole; readonly propagate: boolean }>> = {
  root: { role: "PVEAuditor", propagate: false },
  node: { role: "PVEAuditor", propagate: false },
  "vm-target": { role: "PVEVMAdmin", propagate: true },
  template: { role: "PVETemplateUser", propagate: false },
  "disk-storage": { role: "PVEDatastoreAdmin", propagate: false },
  "iso-storage": { role: "PVEDatastoreAdmin", propagate: false },
  "sdn-bridge": { role: "PVESDNUser", propagate: false },
};
