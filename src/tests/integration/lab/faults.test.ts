/**
 * Fault injection (per run from a scenario file, per endpoint at run time) and scenario
 * loading/validation.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScenarioError, startLab, type LabHandle } from "../../../lab/index.js";
import { call, data, waitTask } from "./helpers.js";

let lab: LabHandle;

beforeAll(async () => {
  lab = await startLab({ taskDurationMs: 10 });
});
afterAll(async () => {
  await lab?.stop();
});

describe("run-time faults", () => {
  it("fails the next N matching requests, then recovers", async () => {
    lab.faults.failNext("GET /nodes/*/status", 2, 503, "Service Unavailable");
    const a = await call(lab, "GET", "/nodes/pve1/status");
    const b = await call(lab, "GET", "/nodes/pve2/status");
    const other = await call(lab, "GET", "/version");
    const c = await call(lab, "GET", "/nodes/pve1/status");
    expect([a.status, a.statusText, b.status, other.status, c.status]).toEqual([503, "Service Unavailable", 503, 200, 200]);
    expect(lab.faults.list()).toEqual([]);
  });

  it("adds latency to matching requests", async () => {
    const id = lab.faults.add({ match: "GET /cluster/**", latencyMs: 150 });
    const t0 = Date.now();
    await data(lab, "GET", "/cluster/nextid");
    const slow = Date.now() - t0;
    lab.faults.remove(id);
    expect(slow).toBeGreaterThanOrEqual(140);
  });

  it("injects a reproducible error rate with a seed", async () => {
    const run = async (): Promise<number[]> => {
      lab.faults.reseed(42);
      const id = lab.faults.add({ match: "GET /version", errorRate: 0.5 });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await call(lab, "GET", "/version")).status);
      lab.faults.remove(id);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.filter((s) => s === 500).length).toBeGreaterThan(3);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(3);
  });

  it("drops connections without an answer", async () => {
    lab.faults.add({ match: "GET /version", drop: true, count: 1 });
    await expect(call(lab, "GET", "/version")).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await call(lab, "GET", "/version")).status).toBe(200);
  });

  it("simulates config lock timeouts and failing tasks", async () => {
    lab.faults.add({ match: "PUT /nodes/*/qemu/*/config", lockTimeout: true, count: 1 });
    const locked = await call(lab, "PUT", "/nodes/pve1/qemu/9000/config", { json: { description: "x" } });
    expect([locked.status, locked.statusText]).toEqual([500, "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout"]);
    lab.faults.add({
      match: "POST /nodes/*/qemu/*/clone",
      failTask: "clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout",
      count: 1,
    });
    const upid = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 300 } });
    const status = await waitTask(lab, upid);
    expect(status.exitstatus).toBe("clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout");
    expect(lab.state.vms.has(300)).toBe(false); // a failed clone removes the new VM
    const log = await data<Array<{ t: string }>>(lab, "GET", `/nodes/pve1/tasks/${upid}/log`);
    expect(log.at(-1)?.t).toBe("TASK ERROR: clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout");
  });

  it("POST config with background_delay answers when its task ends: null when OK, PVE's error when it failed", async () => {
    const ok = await call(lab, "POST", "/nodes/pve1/qemu/9000/config", { json: { description: "sync", background_delay: 5 } });
    expect([ok.status, ok.body?.data]).toEqual([200, null]);
    expect(lab.state.vms.get(9000)?.config["description"]).toBe("sync");
    lab.faults.add({ match: "POST /nodes/*/qemu/*/config", failTask: "got timeout", count: 1 });
    const failed = await call(lab, "POST", "/nodes/pve1/qemu/9000/config", { json: { description: "never", background_delay: 5 } });
    expect([failed.status, failed.statusText]).toEqual([500, "failed to update VM 9000: got timeout"]);
    // A task longer than the delay: the UPID, as PVE answers.
    const slow = await startLab({ taskDurationMs: 1_500 });
    try {
      const upid = await data<string>(slow, "POST", "/nodes/pve1/qemu/9000/config", { json: { description: "later", background_delay: 1 } });
      expect(upid).toMatch(/^UPID:pve1:/);
    } finally {
      await slow.stop();
    }
  });

  it("answers 595 with an empty body for an injected proxy failure", async () => {
    lab.faults.failNext("GET /nodes/pve2/**", 1, 595);
    const r = await call(lab, "GET", "/nodes/pve2/qemu");
    expect([r.status, r.statusText, r.text]).toEqual([595, "Connection refused", ""]);
  });
});

describe("scenarios", () => {
  const dir = mkdtempSync(join(tmpdir(), "lab-scenario-"));

  it("loads a YAML scenario with nodes, VMs, tokens and faults", async () => {
    const file = join(dir, "small.yaml");
    writeFileSync(
      file,
      [
        "clusterName: tiny",
        "seed: 7",
        "nodes:",
        "  - name: alpha",
        "  - name: beta",
        "    online: false",
        "storages:",
        "  - { id: local, type: dir, content: [iso, images] }",
        "vms:",
        "  - vmid: 200",
        "    node: alpha",
        "    status: running",
        "    config: { name: web, agent: '1', scsi0: 'local:200/vm-200-disk-0.qcow2,size=8G', net0: 'virtio=BC:24:11:00:02:00,bridge=vmbr0' }",
        "tokens:",
        "  - { id: 'root@pam!ci', secret: fixed-secret }",
        "  - { id: 'viewer@pve!ro', privsep: false }",
        "users: [{ id: viewer@pve }]",
        "acl: [{ path: /vms, role: PVEAuditor, user: viewer@pve }]",
        "faults:",
        "  - { match: 'GET /cluster/nextid', status: 500, message: 'nextid is down', count: 1 }",
      ].join("\n"),
    );
    const small = await startLab({ http: true, scenario: file });
    try {
      expect(small.tokens.admin).toEqual({ id: "root@pam!ci", secret: "fixed-secret" });
      const down = await call(small, "GET", "/cluster/nextid");
      expect([down.status, down.statusText]).toEqual([500, "nextid is down"]);
      expect(await data(small, "GET", "/cluster/nextid")).toBe("100");
      const current = await data<Record<string, unknown>>(small, "GET", "/nodes/alpha/qemu/200/status/current");
      expect(current).toMatchObject({ status: "running", name: "web" });
      expect((await call(small, "GET", "/nodes/beta/status")).status).toBe(595);
      const status = await data<Array<Record<string, unknown>>>(small, "GET", "/cluster/status");
      expect(status[0]).toMatchObject({ name: "tiny", quorate: 0, nodes: 2 });
      const viewer = await call(small, "GET", "/nodes/alpha/status", { token: small.tokens.readonly });
      expect(viewer.statusText).toBe("Permission check failed (/nodes/alpha, Sys.Audit)");
      expect((await call(small, "GET", "/nodes/alpha/qemu/200/config", { token: small.tokens.readonly })).status).toBe(200);
    } finally {
      await small.stop();
    }
  });

  it("rejects a bad scenario naming each field and value", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      "nodes: [{ name: 'bad name!' }]\nstorages: [{ id: local, type: floppy, content: [iso] }]\ntokens: [{ id: 'root@pam!a' }, { id: 'ghost@pve!b' }]\nvms: [{ vmid: 5, node: nowhere, config: {} }]\n",
    );
    const err = await startLab({ http: true, scenario: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioError);
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).toContain('scenario.nodes[0].name: must be a string matching ^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$ (got "bad name!")');
    expect(message).toContain('scenario.storages[0].type: must be one of: dir, nfs, cifs, cephfs, lvmthin, lvm, zfspool, rbd (got "floppy")');
    expect(message).toContain("scenario.vms[0].vmid: must be >= 100 (got 5)");
    const refs = await startLab({
      http: true,
      scenario: { nodes: [{ name: "a" }], storages: [], tokens: [{ id: "root@pam!aa" }, { id: "ghost@pve!bb" }], vms: [{ vmid: 100, node: "zz", config: {} }] },
    }).catch((e: unknown) => e);
    expect((refs as ScenarioError).problems).toEqual([
      'scenario.vms[0].node: unknown node "zz"',
      'scenario.tokens[1].id: token of unknown user "ghost@pve"',
    ]);
    await expect(startLab({ scenario: join(dir, "missing.yaml") })).rejects.toThrow(/cannot read the file/);
  });
});
