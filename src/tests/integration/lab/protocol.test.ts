/**
 * The lab's wire semantics over real HTTPS: envelopes and headers, TLS, every error class
 * with PVE's status lines, authentication, ACL checks and schema validation.
 */
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type LabHandle } from "../../../lab/index.js";
import { call, data } from "./helpers.js";

let lab: LabHandle;

beforeAll(async () => {
  lab = await startLab({ taskDurationMs: 20 });
});
afterAll(async () => {
  await lab?.stop();
});

describe("transport", () => {
  it("serves HTTPS on loopback with a certificate whose fingerprint it reports", async () => {
    expect(lab.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(lab.caPem).toContain("BEGIN CERTIFICATE");
    const cert = new X509Certificate(lab.caPem ?? "");
    expect(lab.fingerprint).toBe(cert.fingerprint256);
    expect(lab.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    const nodes = await data<Array<{ ssl_fingerprint: string }>>(lab, "GET", "/nodes");
    expect(nodes.map((n) => n.ssl_fingerprint)).toEqual([lab.fingerprint, lab.fingerprint, lab.fingerprint]);
  });

  it("refuses an unverified TLS connection (no CA given)", async () => {
    await expect(fetch(`${lab.url}/api2/json/version`)).rejects.toThrow();
  });

  it("wraps answers in {data} with PVE's headers", async () => {
    const r = await call(lab, "GET", "/version");
    expect(r.status).toBe(200);
    expect(r.statusText).toBe("OK");
    expect(r.headers["content-type"]).toBe("application/json;charset=UTF-8");
    expect(r.headers["server"]).toBe("pve-api-daemon/3.0");
    expect(r.headers["cache-control"]).toBe("max-age=0");
    expect(r.headers["pragma"]).toBe("no-cache");
    expect(r.body).toEqual({ data: { version: "9.1.1", release: "9.1", repoid: expect.stringMatching(/^[0-9a-f]{8,}$/) } });
  });

  it("refuses a non-loopback host", async () => {
    await expect(startLab({ host: "0.0.0.0", http: true })).rejects.toThrow(/"0.0.0.0" is not a loopback address/);
  });

  it("serves plain HTTP with --http, usable with plain fetch", async () => {
    const plain = await startLab({ http: true });
    try {
      expect(plain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(plain.fingerprint).toBeUndefined();
      const r = await fetch(`${plain.url}/api2/json/cluster/nextid`, {
        headers: { Authorization: `PVEAPIToken=${plain.tokens.admin.id}=${plain.tokens.admin.secret}` },
      });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ data: "100" });
    } finally {
      await plain.stop();
    }
  });
});

describe("error classes", () => {
  it("401 No ticket without credentials: empty body, no Content-Type", async () => {
    const r = await call(lab, "GET", "/nodes", { token: null });
    expect([r.status, r.statusText, r.text]).toEqual([401, "No ticket", ""]);
    expect(r.headers["content-type"]).toBeUndefined();
  });

  it("401 Authentication failed! for a wrong secret or an unknown token", async () => {
    const wrong = await call(lab, "GET", "/nodes", { token: { id: lab.tokens.admin.id, secret: "nope" } });
    expect([wrong.status, wrong.statusText, wrong.text]).toEqual([401, "Authentication failed!", ""]);
    const unknown = await call(lab, "GET", "/nodes", { token: { id: "ghost@pve!x", secret: lab.tokens.admin.secret } });
    expect([unknown.status, unknown.statusText]).toEqual([401, "Authentication failed!"]);
  });

  it("403 Permission check failed (<path>, <priv>) for the read-only token", async () => {
    const r = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { token: lab.tokens.readonly, json: { newid: 150 } });
    expect(r.status).toBe(403);
    expect(r.statusText).toBe("Permission check failed (/vms/9000, VM.Clone)");
    expect(r.body).toEqual({ data: null, message: "Permission check failed (/vms/9000, VM.Clone)\n" });
    const config = await call(lab, "POST", "/nodes/pve1/qemu/9000/config", { token: lab.tokens.readonly, json: { cores: 4 } });
    expect(config.statusText).toBe(
      "Permission check failed (/vms/9000, VM.Config.Disk|VM.Config.CDROM|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.HWType|VM.Config.Options|VM.Config.Cloudinit)",
    );
    const agent = await call(lab, "POST", "/nodes/pve1/qemu/9000/agent/exec", { token: lab.tokens.readonly, json: { command: ["true"] } });
    expect(agent.statusText).toBe("Permission check failed (/vms/9000, VM.GuestAgent.Unrestricted)");
  });

  it("lets the read-only token read what PVEAuditor may read", async () => {
    const config = await data<Record<string, unknown>>(lab, "GET", "/nodes/pve1/qemu/9000/config", { token: lab.tokens.readonly });
    expect(config["name"]).toBe("ubuntu-2404-template");
    const status = await data<unknown[]>(lab, "GET", "/cluster/status", { token: lab.tokens.readonly });
    expect(status).toHaveLength(4);
  });

  it("checks ACL paths with propagate and privilege separation", async () => {
    lab.state.users.set("ops@pve", { id: "ops@pve", enabled: true });
    lab.state.tokens.set("ops@pve!t", { id: "ops@pve!t", secret: "s3cret", privsep: true });
    lab.state.acl.push(
      { path: "/vms", role: "PVEVMAdmin", ugid: "ops@pve", kind: "user", propagate: true },
      { path: "/vms/9000", role: "PVEVMUser", ugid: "ops@pve!t", kind: "token", propagate: false },
    );
    const token = { id: "ops@pve!t", secret: "s3cret" };
    // token ∩ user: VM.Audit and VM.Config.CDROM on /vms/9000 yes, VM.Config.CPU no (the token lacks it).
    expect((await call(lab, "GET", "/nodes/pve1/qemu/9000/config", { token })).status).toBe(200);
    const put = await call(lab, "PUT", "/nodes/pve1/qemu/9000/config", { token, json: { cores: 3 } });
    expect(put.statusText).toBe("Permission check failed (/vms/9000, VM.Config.CPU)");
    const clone = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { token, json: { newid: 151 } });
    expect(clone.statusText).toBe("Permission check failed (/vms/9000, VM.Clone)");
    const perms = await data<Record<string, Record<string, number>>>(lab, "GET", "/access/permissions", { token });
    expect(perms["/vms/9000"]).toEqual({
      "VM.Audit": 0, "VM.Backup": 0, "VM.Config.CDROM": 0, "VM.Config.Cloudinit": 0, "VM.Console": 0,
      "VM.GuestAgent.Audit": 0, "VM.PowerMgmt": 0,
    });
    // propagate=0 on /vms/9000: nothing on /vms for the token, though its user has PVEVMAdmin there.
    expect(perms["/vms"]).toEqual({});
    const user = await data<Record<string, Record<string, number>>>(lab, "GET", "/access/permissions?userid=ops%40pve&path=/vms", { token: lab.tokens.admin });
    expect(Object.keys(user["/vms"] ?? {})).toContain("VM.Clone");
  });

  it("400 Parameter verification failed. with an errors map", async () => {
    const r = await call(lab, "PUT", "/nodes/pve1/qemu/9000/config", { form: { cores: "abc", onboot: "true", foo: "1" } });
    expect(r.status).toBe(400);
    expect(r.statusText).toBe("Parameter verification failed.");
    expect(r.body).toEqual({
      data: null,
      message: "Parameter verification failed.\n",
      errors: {
        cores: "type check ('integer') failed - got 'abc'",
        onboot: "type check ('boolean') failed - got 'true'",
        foo: "property is not defined in schema and the schema does not allow additional properties",
      },
    });
  });

  it("validates required params, enums, minimums, formats and property strings", async () => {
    const missing = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: {} });
    expect(missing.body?.errors).toEqual({ newid: "property is missing and it is not optional" });
    const min = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 5 } });
    expect(min.body?.errors).toEqual({ newid: "value must have a minimum value of 100" });
    const en = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 200, format: "vhd" } });
    expect(en.body?.errors).toEqual({ format: "value 'vhd' does not have a value in the enumeration 'raw, qcow2, vmdk'" });
    const nic = await call(lab, "PUT", "/nodes/pve1/qemu/9000/config", { json: { net0: "virtio,bridge=vmbr0,bogus=1" } });
    expect(nic.body?.errors).toEqual({ net0: "invalid format - invalid key in comma-separated list property: bogus\n" });
    const boot = await call(lab, "POST", "/nodes/pve1/qemu/9000/config", { json: { boot: "c;ide0" } });
    expect(boot.status).toBe(400);
    expect(boot.body?.errors).toEqual({ "boot.legacy": "value does not match the regex pattern" });
    const json = await call(lab, "PUT", "/nodes/pve1/qemu/9000/config", { json: { onboot: true } });
    expect(json.status).toBe(200);
  });

  it("500 for business errors with the message as reason phrase", async () => {
    const missing = await call(lab, "GET", "/nodes/pve1/qemu/999/config");
    expect([missing.status, missing.statusText]).toEqual([500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"]);
    expect(missing.body?.message).toBe("Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n");
    const wrongNode = await call(lab, "GET", "/nodes/pve2/qemu/9000/config");
    expect(wrongNode.statusText).toBe("Configuration file 'nodes/pve2/qemu-server/9000.conf' does not exist");
    const host = await call(lab, "GET", "/nodes/nosuch/qemu");
    expect(host.statusText).toBe("hostname lookup 'nosuch' failed - failed to get address info for: nosuch: Name or service not known");
  });

  it("501 for unknown paths and methods, never 404", async () => {
    const path = await call(lab, "GET", "/nodes/pve1/qemu/9000/nosuch");
    expect([path.status, path.statusText]).toEqual([501, "Method 'GET /nodes/pve1/qemu/9000/nosuch' not implemented"]);
    const method = await call(lab, "PATCH", "/version");
    expect([method.status, method.statusText]).toEqual([501, "Method 'PATCH /version' not implemented"]);
    const noApi = await call(lab, "GET", "!/nodes");
    expect([noApi.status, noApi.statusText]).toEqual([501, "no such uri"]);
    const content = await call(lab, "GET", "/version", { raw: { contentType: "application/json", body: "{}" } });
    expect([content.status, content.statusText]).toEqual([501, "Unexpected content for method 'GET'"]);
  });

  it("595 for a request proxied to an offline node", async () => {
    const node = lab.state.node("pve3");
    if (!node) throw new Error("pve3 missing");
    node.online = false;
    try {
      const r = await call(lab, "GET", "/nodes/pve3/status");
      expect([r.status, r.statusText, r.text]).toEqual([595, "Connection refused", ""]);
      const nodes = await data<Array<{ node: string; status: string; cpu?: number }>>(lab, "GET", "/nodes");
      expect(nodes.find((n) => n.node === "pve3")).toMatchObject({ status: "offline" });
      expect(nodes.find((n) => n.node === "pve3")?.cpu).toBeUndefined();
      const cluster = await data<Array<{ name: string; online?: number; quorate?: number }>>(lab, "GET", "/cluster/status");
      expect(cluster.find((e) => e.name === "pve3")?.online).toBe(0);
      expect(cluster[0]?.quorate).toBe(1);
    } finally {
      node.online = true;
    }
  });

  it("accepts raw and %-encoded UPIDs in task paths and rejects bad ones", async () => {
    const upid = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/status/stop");
    const raw = await call(lab, "GET", `/nodes/pve1/tasks/${upid}/status`);
    const encoded = await call(lab, "GET", `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
    expect(raw.status).toBe(200);
    expect((encoded.body?.data as { upid: string }).upid).toBe(upid);
    const bad = await call(lab, "GET", "/nodes/pve1/tasks/UPID:nope/status");
    expect(bad.body?.errors).toEqual({ upid: "unable to parse worker upid" });
    const unknown = await call(lab, "GET", `/nodes/pve1/tasks/${upid.replace(/:qmstop:/, ":qmstart:")}/status`);
    expect(unknown.body?.errors).toEqual({ upid: "no such task" });
  });
});
