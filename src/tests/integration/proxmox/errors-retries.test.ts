/**
 * Every error class and the retry rules, against the real lab with its fault injection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProxmoxClient, ProxmoxApiError, ProxmoxTaskError, type HttpProxmoxApi } from "../../../proxmox/index.js";
import { defaultScenario, startLab } from "../../../lab/index.js";
import { expectNoSecret, failure, startLabClients, type LabClients } from "./lab-client.js";

let env: LabClients;
let api: HttpProxmoxApi;
/** Every error the tests saw, checked for secrets at the end. */
const seen: unknown[] = [];

async function fails(fn: () => Promise<unknown>): Promise<ProxmoxApiError> {
  const error = await failure<ProxmoxApiError>(fn);
  seen.push(error);
  expect(error).toBeInstanceOf(ProxmoxApiError);
  return error;
}

beforeAll(async () => {
  // The default cluster plus a VM on pve2, whose tasks run (and are polled) on pve2.
  const scenario = defaultScenario();
  const onPve2 = { vmid: 200, node: "pve2", config: { name: "on-pve2", memory: "512", cores: 1, scsi0: "local-lvm:vm-200-disk-0,size=4G" } };
  env = await startLabClients({ scenario: { ...scenario, vms: [...(scenario.vms ?? []), onPve2] }, taskDurationMs: 20 });
  api = env.client();
});

afterAll(async () => {
  await env?.stop();
});

/** A fresh full clone of the template, ready to use. */
async function cloneTemplate(): Promise<number> {
  const vmid = await api.nextId();
  await api.waitForTask(await api.cloneVm("pve1", 9000, { newid: vmid, full: true }));
  return vmid;
}

/** Retry events for `path` logged since event index `since`. */
function retriesOf(path: string, since = 0): number {
  return env.events.slice(since).filter((e) => e.type === "retry" && e.path === path).length;
}

describe("error classes", () => {
  it("400: parameter errors with the per-parameter map", async () => {
    const e = await fails(() => api.put("/nodes/pve1/qemu/9000/config", { cores: "abc", foo: "1" }));
    expect(e).toMatchObject({ kind: "parameter", status: 400, reason: "Parameter verification failed.", method: "PUT", path: "/nodes/pve1/qemu/9000/config" });
    expect(e.errors?.cores).toMatch(/type check \('integer'\) failed - got 'abc'/);
    expect(e.errors?.foo).toMatch(/property is not defined in schema/);
    expect(e.attempts).toBe(1);
  });

  it("401: a wrong secret fails once, without retries and without the secret", async () => {
    const wrong = "00000000-dead-4bad-8bad-000000000000";
    const client = env.client({ secret: wrong });
    const e = await fails(() => client.version());
    expect(e).toMatchObject({ kind: "auth", status: 401, attempts: 1 });
    expect(e.message).toContain(env.lab.tokens.admin.id);
    expectNoSecret([wrong, ...env.secrets], e, client);
  });

  it("403: the read-only token may not clone", async () => {
    const ro = env.client({}, "readonly");
    const e = await fails(() => ro.cloneVm("pve1", 9000, { newid: 4242 }));
    expect(e.kind).toBe("permission");
    expect(e.status).toBe(403);
    expect(e.reason).toMatch(/^Permission check failed \(\/vms\/\d+, VM\.(Clone|Allocate)\)$/);
  });

  it("500: missing VM config is not-found; 501 unknown path is not-implemented", async () => {
    const missing = await fails(() => api.vmConfig("pve1", 999));
    expect(missing).toMatchObject({ kind: "not-found", status: 500, reason: "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist" });
    expect(missing.attempts).toBe(1);
    const nosuch = await fails(() => api.get("/nodes/pve1/qemu/9000/nosuch"));
    expect(nosuch).toMatchObject({ kind: "not-implemented", status: 501, reason: "Method 'GET /nodes/pve1/qemu/9000/nosuch' not implemented" });
  });

  it("500: VM is locked while a clone runs (without retries)", async () => {
    env.lab.state.timing.taskDurations.qmclone = 1500;
    try {
      const vmid = await api.nextId();
      const upid = await api.cloneVm("pve1", 9000, { newid: vmid, full: true });
      const e = await fails(() => api.request("PUT", `/nodes/pve1/qemu/${vmid}/config`, { cores: 2 }, { retry: false }));
      expect(e).toMatchObject({ kind: "locked", status: 500, reason: "VM is locked (clone)", attempts: 1 });
      await api.waitForTask(upid);
      await api.waitForTask(await api.deleteVm("pve1", vmid));
    } finally {
      delete env.lab.state.timing.taskDurations.qmclone;
    }
  });

  it("595: a node that is offline", async () => {
    const pve2 = env.lab.state.node("pve2")!;
    pve2.online = false;
    try {
      const e = await fails(() => api.nodeStatus("pve2"));
      expect(e).toMatchObject({ kind: "proxy", status: 595, reason: "Connection refused" });
      expect(e.attempts).toBe(4); // a read: retried up to maxAttempts
      expect(e.message).toContain("offline node?");
    } finally {
      pve2.online = true;
    }
  });
});

describe("retries", () => {
  it("a read survives a burst of 503s and a dropped connection", async () => {
    const since = env.events.length;
    env.lab.faults.failNext("GET /version", 2, 503, "Service Unavailable");
    expect((await api.version()).version).toBeTruthy();
    expect(retriesOf("/version", since)).toBe(2);
    env.lab.faults.add({ match: "GET /cluster/resources", drop: true, count: 1 });
    expect((await api.clusterResources("vm")).length).toBeGreaterThan(0);
    expect(retriesOf("/cluster/resources", since)).toBe(1);
  });

  it("a read gives up after maxAttempts and says so", async () => {
    env.lab.faults.failNext("GET /pools", 10, 596);
    const e = await fails(() => api.pools());
    expect(e).toMatchObject({ kind: "proxy", status: 596, attempts: 4 });
    expect(e.message).toContain("(after 4 attempts)");
    env.lab.faults.clear();
  });

  it("a read's business 500 is not retried", async () => {
    env.lab.faults.failNext("GET /nodes/pve1/qemu/9000/status/current", 1, 500, "something broke");
    const e = await fails(() => api.vmStatus("pve1", 9000));
    expect(e).toMatchObject({ kind: "business", attempts: 1, reason: "something broke" });
  });

  it("a write is NOT repeated after a dropped connection (the clone might have happened)", async () => {
    const vmid = await api.nextId();
    env.lab.faults.add({ match: "POST /nodes/*/qemu/*/clone", drop: true, count: 1 });
    const e = await fails(() => api.cloneVm("pve1", 9000, { newid: vmid, full: true }));
    expect(e).toMatchObject({ kind: "network", requestSent: true, attempts: 1 });
    // Had the client repeated it, the second attempt would have created the VM.
    expect(await api.isVmidFree(vmid)).toBe(true);
  });

  it("a write is NOT repeated after a 503 or 596", async () => {
    const vmid = await cloneTemplate();
    env.lab.faults.failNext(`POST /nodes/pve1/qemu/${vmid}/config`, 1, 503);
    expect(await fails(() => api.updateVmConfig("pve1", vmid, { cores: 3 }))).toMatchObject({ kind: "server", status: 503, attempts: 1 });
    env.lab.faults.failNext(`POST /nodes/pve1/qemu/${vmid}/status/start`, 1, 596);
    expect(await fails(() => api.startVm("pve1", vmid))).toMatchObject({ kind: "proxy", status: 596, attempts: 1 });
    expect((await api.vmConfig("pve1", vmid)).cores).not.toBe(3);
    expect((await api.vmStatus("pve1", vmid)).status).toBe("stopped");
    await api.waitForTask(await api.deleteVm("pve1", vmid));
  });

  it("a write IS repeated after 595 (the target node was never reached)", async () => {
    const vmid = await cloneTemplate();
    const since = env.events.length;
    env.lab.faults.failNext(`PUT /nodes/pve1/qemu/${vmid}/config`, 1, 595);
    await api.updateVmConfigSync("pve1", vmid, { cores: 3 });
    expect((await api.vmConfig("pve1", vmid)).cores).toBe(3);
    expect(retriesOf(`/nodes/pve1/qemu/${vmid}/config`, since)).toBe(1);
    await api.waitForTask(await api.deleteVm("pve1", vmid));
  });

  it("writes wait out lock timeouts and 'VM is locked'", async () => {
    const vmid = await cloneTemplate();
    const since = env.events.length;
    env.lab.faults.add({ match: `PUT /nodes/pve1/qemu/${vmid}/config`, lockTimeout: true, count: 2 });
    await api.updateVmConfigSync("pve1", vmid, { cores: 5 });
    const lockRetries = env.events.slice(since).filter((e) => e.type === "retry" && e.path === `/nodes/pve1/qemu/${vmid}/config`);
    expect(lockRetries).toHaveLength(2);
    expect(lockRetries.every((e) => e.type === "retry" && e.reason.includes("can't lock file"))).toBe(true);
    await api.waitForTask(await api.deleteVm("pve1", vmid));

    // A config change on a VM whose clone is still running succeeds once the clone is done.
    env.lab.state.timing.taskDurations.qmclone = 300;
    try {
      const next = await api.nextId();
      const upid = await api.cloneVm("pve1", 9000, { newid: next, full: true });
      const before = env.events.length;
      const patient = env.client({ retry: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 200 } });
      await patient.updateVmConfigSync("pve1", next, { cores: 6 });
      expect((await api.vmConfig("pve1", next)).cores).toBe(6);
      expect(env.events.slice(before).some((e) => e.type === "retry" && e.reason.includes("VM is locked (clone)"))).toBe(true);
      await api.waitForTask(upid);
      await api.waitForTask(await api.deleteVm("pve1", next));
    } finally {
      delete env.lab.state.timing.taskDurations.qmclone;
    }
  });

  it("a write is repeated when the server refused the connection", async () => {
    const closed = await startLab({ http: true });
    const url = closed.url;
    await closed.stop();
    const client = createProxmoxClient({ url, tokenId: env.lab.tokens.admin.id, secret: env.lab.tokens.admin.secret, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const e = await fails(() => client.cloneVm("pve1", 9000, { newid: 4243 }));
    expect(e).toMatchObject({ kind: "network", code: "ECONNREFUSED", requestSent: false, attempts: 3 });
    client.close();
  });

  it("per-attempt timeouts, and abort", async () => {
    env.lab.faults.add({ match: "GET /cluster/status", latencyMs: 400, count: 2 });
    const slow = env.client({ timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const e = await fails(() => slow.clusterStatus());
    expect(e).toMatchObject({ kind: "timeout", attempts: 2 });
    env.lab.faults.add({ match: "GET /nodes", latencyMs: 400, count: 1 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await fails(() => api.request("GET", "/nodes", undefined, { signal: controller.signal }));
    expect(aborted.kind).toBe("aborted");
    env.lab.faults.clear();
  });
});

describe("waitForTask", () => {
  it("returns the exit status of a task that succeeded", async () => {
    const vmid = await cloneTemplate();
    const result = await api.waitForTask(await api.startVm("pve1", vmid));
    expect(result).toMatchObject({ exitstatus: "OK", type: "qmstart", id: String(vmid), node: "pve1" });
    await api.waitForTask(await api.stopVm("pve1", vmid));
    await api.waitForTask(await api.deleteVm("pve1", vmid));
  });

  it("throws ProxmoxTaskError with the tail of the task log when a task fails", async () => {
    const vmid = await cloneTemplate();
    env.lab.faults.add({ match: `POST /nodes/pve1/qemu/${vmid}/status/start`, failTask: "start failed: QEMU exited with code 1", count: 1 });
    const upid = await api.startVm("pve1", vmid);
    const e = (await fails(() => api.waitForTask(upid, { logTailLines: 5 }))) as ProxmoxTaskError;
    expect(e).toBeInstanceOf(ProxmoxTaskError);
    expect(e.kind).toBe("task");
    expect(e.upid).toBe(upid);
    expect(e.exitstatus).toBe("start failed: QEMU exited with code 1");
    expect(e.logTail.at(-1)).toBe("TASK ERROR: start failed: QEMU exited with code 1");
    expect(e.logTail.length).toBeLessThanOrEqual(5);
    expect(e.message).toContain("TASK ERROR: start failed: QEMU exited with code 1");
    await api.waitForTask(await api.deleteVm("pve1", vmid));
  });

  it("polls the node named in the UPID", async () => {
    const since = env.events.length;
    const upid = await api.startVm("pve2", 200);
    expect(upid.startsWith("UPID:pve2:")).toBe(true);
    await api.waitForTask(upid);
    const polled = env.events.slice(since).filter((e) => e.type === "request" && e.path.includes("/tasks/"));
    expect(polled.length).toBeGreaterThan(0);
    expect(polled.every((e) => e.path.startsWith(`/nodes/pve2/tasks/${encodeURIComponent(upid)}/`))).toBe(true);
    await api.waitForTask(await api.stopVm("pve2", 200));
  });
});

describe("redaction", () => {
  it("no error, client or log event shows a secret", () => {
    expect(seen.length).toBeGreaterThan(10);
    expectNoSecret(env.secrets, ...seen, api, env.events);
  });
});
