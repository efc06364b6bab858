/**
 * The lab's privileges follow the PVE major its scenario claims: PVE 8 has `VM.Monitor` and
 * no `VM.GuestAgent.*` / `VM.Replicate` (built-in roles, root, endpoint checks), PVE 9 the
 * opposite.
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultScenario, startLab, type LabHandle, type Scenario } from "../../../lab/index.js";
import { call, data } from "./helpers.js";

let lab: LabHandle | undefined;

afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

const PVE8: Scenario = { ...defaultScenario(), version: { version: "8.4.1", release: "8.4", repoid: "2a5fa54a" } };
const OPS_TOKEN = { id: "ops@pve!t", secret: "lab-only-secret" };

type PermissionDump = Record<string, Record<string, number>>;

/** Privilege names the dump lists anywhere. */
const names = (dump: PermissionDump): string[] => [...new Set(Object.values(dump).flatMap((p) => Object.keys(p)))].sort();

/** Adds ops@pve with a privsep-off token and PVEVMAdmin on /vms. */
function addVmAdmin(handle: LabHandle): void {
  handle.state.users.set("ops@pve", { id: "ops@pve", enabled: true });
  handle.state.tokens.set(OPS_TOKEN.id, { id: OPS_TOKEN.id, secret: OPS_TOKEN.secret, privsep: false });
  handle.state.acl.push({ path: "/vms", role: "PVEVMAdmin", ugid: "ops@pve", kind: "user", propagate: true });
}

describe("privileges follow the scenario's PVE major", () => {
  it("PVE 8: the admin token holds VM.Monitor and no VM.GuestAgent.* / VM.Replicate", async () => {
    lab = await startLab({ scenario: PVE8, taskDurationMs: 20 });
    expect(await data<{ release: string }>(lab, "GET", "/version")).toMatchObject({ release: "8.4" });
    const dump = await data<PermissionDump>(lab, "GET", "/access/permissions");
    expect(dump["/vms"]).toMatchObject({ "VM.Monitor": 1, "VM.Audit": 1, "VM.Clone": 1 });
    expect(names(dump)).toContain("VM.Monitor");
    expect(names(dump).filter((p) => p.startsWith("VM.GuestAgent.") || p === "VM.Replicate")).toEqual([]);
  });

  it("PVE 9 (default): the admin token holds VM.GuestAgent.* and no VM.Monitor", async () => {
    lab = await startLab({ taskDurationMs: 20 });
    expect(await data<{ release: string }>(lab, "GET", "/version")).toMatchObject({ release: "9.1" });
    const dump = await data<PermissionDump>(lab, "GET", "/access/permissions");
    expect(dump["/vms"]).toMatchObject({ "VM.GuestAgent.Audit": 1, "VM.GuestAgent.Unrestricted": 1, "VM.Replicate": 1 });
    expect(names(dump)).not.toContain("VM.Monitor");
  });

  it("PVE 8 built-in roles: PVEVMAdmin has VM.Monitor, PVEVMUser and PVEAuditor no agent access", async () => {
    lab = await startLab({ scenario: PVE8, taskDurationMs: 20 });
    addVmAdmin(lab);
    const admin = await data<PermissionDump>(lab, "GET", "/access/permissions?path=/vms", { token: OPS_TOKEN });
    expect(Object.keys(admin["/vms"] ?? {})).toContain("VM.Monitor");
    expect(Object.keys(admin["/vms"] ?? {}).filter((p) => p.startsWith("VM.GuestAgent."))).toEqual([]);
    const auditor = await data<PermissionDump>(lab, "GET", "/access/permissions?path=/", { token: lab.tokens.readonly });
    expect(Object.keys(auditor["/"] ?? {})).not.toContain("VM.Monitor");
    expect(Object.keys(auditor["/"] ?? {})).not.toContain("VM.GuestAgent.Audit");
    expect(Object.keys(auditor["/"] ?? {})).toContain("VM.Audit");
  });

  it("PVE 8 endpoint checks use the 8.4 schema: the guest agent wants VM.Monitor", async () => {
    lab = await startLab({ scenario: PVE8, taskDurationMs: 20 });
    addVmAdmin(lab);
    const denied = await call(lab, "POST", "/nodes/pve1/qemu/9000/agent/ping", { token: lab.tokens.readonly });
    expect(denied.status).toBe(403);
    expect(denied.statusText).toBe("Permission check failed (/vms/9000, VM.Monitor)");
    // PVEVMAdmin passes the permission check; the stopped template then fails in the handler.
    const allowed = await call(lab, "POST", "/nodes/pve1/qemu/9000/agent/ping", { token: OPS_TOKEN });
    expect(allowed.status).not.toBe(403);
    expect(allowed.statusText).not.toContain("Permission check failed");

    // The same lab switched to PVE 9 at run time checks the 9.1 names again: PVEAuditor's
    // VM.GuestAgent.Audit now lets the read-only token ping, but not exec.
    lab.state.version = { version: "9.1.1", release: "9.1", repoid: "42fb6a2a" };
    const ping = await call(lab, "POST", "/nodes/pve1/qemu/9000/agent/ping", { token: lab.tokens.readonly });
    expect(ping.statusText).not.toContain("Permission check failed");
    const exec = await call(lab, "POST", "/nodes/pve1/qemu/9000/agent/exec", { token: lab.tokens.readonly, json: { command: ["true"] } });
    expect(exec.statusText).toBe("Permission check failed (/vms/9000, VM.GuestAgent.Unrestricted)");
  });
});
