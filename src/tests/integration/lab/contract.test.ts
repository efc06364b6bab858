/**
 * Contract tests: for every endpoint the client uses, the lab's answer has the SHAPE of the
 * recorded PVE fixtures in shared/reference/pve/fixtures-*: same status line, same headers
 * that matter, same keys with the same JSON types (strings stay strings, 0/1 stay numbers).
 * Values differ by design; keys PVE only sends in some states are listed per case.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultScenario, startLab, type LabHandle, type LabToken } from "../../../lab/index.js";
import { referencePath } from "../../../paths.js";
import { call, data, eventually, waitTask, type CallOptions, type PveAnswer } from "./helpers.js";

interface DerivedFixture {
  request: { method: string; path: string };
  response: { status: number; status_line: string; headers: Record<string, string>; body: unknown };
}

function derived(name: string): DerivedFixture {
  return JSON.parse(readFileSync(referencePath("pve", "fixtures-derived", `${name}.json`), "utf8")) as DerivedFixture;
}

function goProxmox(name: string): { data: unknown } {
  return JSON.parse(readFileSync(referencePath("pve", "fixtures-go-proxmox", `${name}.json`), "utf8")) as { data: unknown };
}

const jsonType = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Differences between a fixture's shape and the lab's value ([] when they agree). */
function shapeDiff(expected: unknown, actual: unknown, path: string, optional: ReadonlySet<string>): string[] {
  if (jsonType(expected) !== jsonType(actual)) return [`${path}: ${jsonType(expected)} expected, got ${jsonType(actual)} (${JSON.stringify(actual)})`];
  if (Array.isArray(expected)) {
    const items = actual as unknown[];
    const out: string[] = [];
    for (const [i, item] of expected.entries()) {
      const type = (item as { type?: unknown } | null)?.type;
      const candidates = items.filter((a) => typeof type !== "string" || (a as { type?: unknown }).type === type);
      if (candidates.length === 0) {
        if (!optional.has(`${path}[type=${String(type)}]`)) out.push(`${path}[${i}]: no item${typeof type === "string" ? ` of type ${type}` : ""}`);
        continue;
      }
      // The closest lab item stands for this fixture item.
      const diffs = candidates.map((c) => shapeDiff(item, c, `${path}[]`, optional)).sort((a, b) => a.length - b.length);
      out.push(...(diffs[0] ?? []));
    }
    return out;
  }
  if (expected !== null && typeof expected === "object") {
    const out: string[] = [];
    if (optional.has(`${path}.*`)) return out; // a map whose keys are data (privileges), not shape
    for (const [key, value] of Object.entries(expected as Record<string, unknown>)) {
      const here = `${path}.${key}`;
      if (!(key in (actual as Record<string, unknown>))) {
        if (!optional.has(here)) out.push(`${here}: missing`);
        continue;
      }
      out.push(...shapeDiff(value, (actual as Record<string, unknown>)[key], here, optional));
    }
    return out;
  }
  return [];
}

const UPID_RE = /^UPID:[a-zA-Z0-9-]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

let lab: LabHandle;
let nobody: LabToken;
const upids: Record<string, string> = {};

beforeAll(async () => {
  const base = defaultScenario();
  lab = await startLab({
    taskDurationMs: 20,
    scenario: {
      ...base,
      nodes: base.nodes.map((n) => (n.name === "pve2" ? { ...n, online: false } : n)),
      users: [...(base.users ?? []), { id: "nobody@pve" }],
      tokens: [...base.tokens, { id: "nobody@pve!none" }],
      timing: { agentBootDelayMs: 20 },
    },
  });
  const token = lab.state.tokens.get("nobody@pve!none");
  if (!token) throw new Error("token missing");
  nobody = { id: token.id, secret: token.secret };
  // VM 101: a running, configured clone in pool capi (what capmox leaves behind).
  upids["clone"] = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", {
    json: { newid: 101, name: "k8s-cp-0", full: 1, storage: "local-lvm", pool: "capi" },
  });
  await waitTask(lab, upids["clone"]);
  upids["config"] = await data<string>(lab, "POST", "/nodes/pve1/qemu/101/config", {
    json: {
      cores: 4, memory: "8192", onboot: 1, numa: 0, tags: "capmox;k8s", ipconfig0: "ip=10.0.0.101/24,gw=10.0.0.1",
      ide2: "local-lvm:cloudinit", scsi1: "local-lvm:10,backup=0,iothread=1", boot: "order=scsi0;ide2;net0",
    },
  });
  await waitTask(lab, upids["config"]);
  upids["resize"] = await data<string>(lab, "PUT", "/nodes/pve1/qemu/101/resize", { json: { disk: "scsi0", size: "+18G" } });
  await waitTask(lab, upids["resize"]);
  upids["start"] = await data<string>(lab, "POST", "/nodes/pve1/qemu/101/status/start");
  await waitTask(lab, upids["start"]);
  await eventually(() => data(lab, "GET", "/nodes/pve1/qemu/101/agent/get-osinfo"));
  // VM 102: a clone still running (locked).
  lab.state.timing.taskDurations["qmclone"] = 600_000;
  upids["running"] = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 102 } });
  delete lab.state.timing.taskDurations["qmclone"];
  // A failed task.
  lab.faults.add({ match: "POST /nodes/*/qemu/*/status/stop", failTask: "VM quit/powerdown failed", count: 1 });
  upids["failed"] = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/status/stop");
  await waitTask(lab, upids["failed"]);
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

/** Compares one lab answer with a derived fixture: status line, headers, body shape. */
function expectLike(answer: PveAnswer, fixture: DerivedFixture, optional: readonly string[] = []): void {
  const res = fixture.response;
  expect(`${answer.status} ${answer.statusText}`).toBe(res.status_line.replace(/^HTTP\/1\.1 /, ""));
  expect(answer.headers["server"]).toBe(res.headers["Server"]);
  expect(answer.headers["content-type"]).toBe(res.headers["Content-Type"]);
  if (res.body === null) {
    expect(answer.text).toBe("");
    return;
  }
  expect(shapeDiff(res.body, answer.body, "body", new Set(optional))).toEqual([]);
}

interface Case {
  readonly fixture: string;
  readonly method: string;
  readonly path: string;
  readonly options?: () => CallOptions;
  /** Keys PVE sends only in some states (e.g. `lock`, `pool`, stats of online nodes). */
  readonly optional?: readonly string[];
  /** The body must be equal, not only alike (error bodies). */
  readonly exact?: boolean;
  /** UPID answers: the task type the UPID must carry. */
  readonly taskType?: string;
}

const cases: Case[] = [
  { fixture: "version_pve9", method: "GET", path: "/version" },
  { fixture: "nodes", method: "GET", path: "/nodes" },
  { fixture: "node_status", method: "GET", path: "/nodes/pve1/status" },
  { fixture: "cluster_status", method: "GET", path: "/cluster/status" },
  {
    fixture: "cluster_resources_vm",
    method: "GET",
    path: "/cluster/resources?type=vm",
    optional: ["body.data[type=lxc]", "body.data[].tags", "body.data[].pool"],
  },
  { fixture: "cluster_nextid", method: "GET", path: "/cluster/nextid" },
  { fixture: "cluster_nextid_taken", method: "GET", path: "/cluster/nextid?vmid=101", exact: true },
  { fixture: "qemu_list", method: "GET", path: "/nodes/pve1/qemu", optional: ["body.data[].serial", "body.data[].tags", "body.data[].pid"] },
  { fixture: "qemu_config_get", method: "GET", path: "/nodes/pve1/qemu/101/config" },
  { fixture: "qemu_status_current_running", method: "GET", path: "/nodes/pve1/qemu/101/status/current", optional: ["body.data.serial"] },
  { fixture: "qemu_status_current_stopped", method: "GET", path: "/nodes/pve1/qemu/9000/status/current" },
  // (the fixture's `local` entry could not pass its own content=images filter: list unfiltered)
  { fixture: "storage_list", method: "GET", path: "/nodes/pve1/storage?enabled=1" },
  { fixture: "storage_content", method: "GET", path: "/nodes/pve1/storage/local-lvm/content?content=images", optional: ["body.data[].parent"] },
  {
    fixture: "storage_content_alloc",
    method: "POST",
    path: "/nodes/pve1/storage/local-lvm/content",
    options: () => ({ json: { vmid: 9999, filename: "vm-9999-pvc-0a1b2c3d", size: "10485760" } }),
  },
  { fixture: "qemu_config_put_sync", method: "PUT", path: "/nodes/pve1/qemu/9000/config", options: () => ({ json: { onboot: 1 } }) },
  { fixture: "qemu_config_post_async", method: "POST", path: "/nodes/pve1/qemu/101/config", options: () => ({ json: { tags: "capmox;k8s" } }), taskType: "qmconfig" },
  { fixture: "qemu_clone", method: "POST", path: "/nodes/pve1/qemu/9000/clone", options: () => ({ json: { newid: 103, name: "k8s-worker-0", full: 1, storage: "local-lvm", pool: "capi" } }), taskType: "qmclone" },
  { fixture: "qemu_resize", method: "PUT", path: "/nodes/pve1/qemu/101/resize", options: () => ({ json: { disk: "scsi0", size: "+10G" } }), taskType: "resize" },
  // Before the reboot: for 20–40 ms after it the guest agent is (rightly) not running yet.
  { fixture: "agent_network_get_interfaces", method: "GET", path: "/nodes/pve1/qemu/101/agent/network-get-interfaces" },
  { fixture: "qemu_status_reboot", method: "POST", path: "/nodes/pve1/qemu/101/status/reboot", taskType: "qmreboot" },
  { fixture: "access_permissions", method: "GET", path: "/access/permissions", options: () => ({ token: lab.tokens.readonly }), optional: ["body.data./pool/capi.*", "body.data./storage/local-lvm"] },
  { fixture: "err_400_param", method: "POST", path: "/nodes/pve1/qemu/101/config", options: () => ({ form: { cores: "abc", onboot: "true", foo: "1" } }), exact: true },
  { fixture: "err_401_no_ticket", method: "GET", path: "/nodes", options: () => ({ token: null }), exact: true },
  { fixture: "err_403_perm", method: "GET", path: "/nodes/pve1/qemu/101/config", options: () => ({ token: nobody }), exact: true },
  { fixture: "err_500_locked", method: "POST", path: "/nodes/pve1/qemu/102/config", options: () => ({ json: { cores: 2 } }), exact: true },
  { fixture: "err_500_missing_vm", method: "GET", path: "/nodes/pve1/qemu/999/config", exact: true },
  { fixture: "err_500_hostname", method: "GET", path: "/nodes/nosuchnode/qemu", exact: true },
  { fixture: "err_501_no_method", method: "GET", path: "/nodes/pve1/qemu/101/nosuch", exact: true },
  { fixture: "err_595_proxy", method: "GET", path: "/nodes/pve2/status", exact: true },
];

describe("contract: lab answers have the recorded PVE shapes", () => {
  for (const c of cases) {
    it(`${c.method} ${c.path} ~ fixtures-derived/${c.fixture}.json`, async () => {
      const fixture = derived(c.fixture);
      expect(fixture.request.method).toBe(c.method);
      const answer = await call(lab, c.method, c.path, c.options?.() ?? {});
      expectLike(answer, fixture, c.optional);
      if (c.exact) expect(answer.body ?? null).toEqual(fixture.response.body);
      if (c.taskType !== undefined) {
        const m = UPID_RE.exec(String(answer.body?.data));
        expect(m?.[1]).toBe(c.taskType);
        expect(String(answer.body?.data).split(":")[5]).toBe(String((fixture.response.body as { data: string }).data).split(":")[5]);
      }
    });
  }

  it("guest agent answers have go-proxmox's recorded shapes", async () => {
    // (the reboot case above restarted VM 101: its agent answers again after the boot delay)
    const osinfo = await eventually(async () => {
      const r = await call(lab, "GET", "/nodes/pve1/qemu/101/agent/get-osinfo");
      if (r.status !== 200) throw new Error(r.statusText);
      return r;
    });
    expect(shapeDiff(goProxmox("21_GET_agent_get-osinfo.pve9"), osinfo.body, "body", new Set())).toEqual([]);
    const exec = await call(lab, "POST", "/nodes/pve1/qemu/101/agent/exec", { json: { command: ["echo", "hello"], "input-data": "" } });
    expect(shapeDiff(goProxmox("22_POST_agent_exec.pve9"), exec.body, "body", new Set())).toEqual([]);
    const pid = (exec.body?.data as { pid: number }).pid;
    const done = await eventually(async () => {
      const r = await call(lab, "GET", `/nodes/pve1/qemu/101/agent/exec-status?pid=${pid}`);
      if ((r.body?.data as { exited: number }).exited !== 1) throw new Error("not yet");
      return r;
    });
    // `out-truncated` is only sent by QGA when output was cut.
    expect(shapeDiff(goProxmox("23_GET_agent_exec-status.pve9"), done.body, "body", new Set(["body.data.out-truncated"]))).toEqual([]);
    expect(done.body?.data).toMatchObject({ "out-data": "hello\n", exitcode: 0 });
    expect(shapeDiff(goProxmox("24_GET_agent_network-get-interfaces.pve9"), (await call(lab, "GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces")).body, "body", new Set())).toEqual([]);
  });

  it("storage upload answers a UPID like fixtures-derived/storage_upload.json", async () => {
    const fixture = derived("storage_upload");
    const form = new FormData();
    form.append("content", "iso");
    form.append("filename", new Blob(["iso"]), "user-data-101.iso");
    const encoded = new Response(form);
    const contentType = encoded.headers.get("content-type") ?? "";
    const body = await encoded.arrayBuffer();
    const answer = await call(lab, "POST", "/nodes/pve1/storage/local/upload", { raw: { contentType, body: Buffer.from(body) } });
    expectLike(answer, fixture);
    expect(UPID_RE.exec(String(answer.body?.data))?.slice(1, 3)).toEqual(["imgcopy", ""]);
    upids["upload"] = String(answer.body?.data);
    await waitTask(lab, upids["upload"]);
    const del = await call(lab, "DELETE", "/nodes/pve1/storage/local/content/local:iso/user-data-101.iso");
    expectLike(del, derived("storage_content_delete"));
    expect(UPID_RE.exec(String(del.body?.data))?.[1]).toBe("imgdel");
  });

  it("power and delete answer UPIDs like the fixtures", async () => {
    for (const [fixture, path, type] of [
      ["qemu_status_shutdown", "/nodes/pve1/qemu/101/status/shutdown", "qmshutdown"],
      ["qemu_status_start", "/nodes/pve1/qemu/9000/status/start", "qmstart"],
      ["qemu_status_stop", "/nodes/pve1/qemu/101/status/stop", "qmstop"],
    ] as const) {
      const answer = await call(lab, "POST", path);
      expectLike(answer, derived(fixture));
      expect(UPID_RE.exec(String(answer.body?.data))?.[1]).toBe(type);
      await waitTask(lab, String(answer.body?.data));
    }
    const del = await call(lab, "DELETE", "/nodes/pve1/qemu/101?purge=1&destroy-unreferenced-disks=1");
    expectLike(del, derived("qemu_delete"));
    expect(UPID_RE.exec(String(del.body?.data))?.[1]).toBe("qmdestroy");
  });

  it("task status (running, OK, error) and log have the recorded shapes", async () => {
    const status = (upid: string): Promise<PveAnswer> => call(lab, "GET", `/nodes/pve1/tasks/${upid}/status`);
    expectLike(await status(upids["running"] ?? ""), derived("task_status_running"));
    expectLike(await status(upids["clone"] ?? ""), derived("task_status_ok"));
    const failed = await status(upids["failed"] ?? "");
    expectLike(failed, derived("task_status_error"));
    expect((failed.body?.data as { exitstatus: string }).exitstatus).toBe("VM quit/powerdown failed");
    const log = await call(lab, "GET", `/nodes/pve1/tasks/${upids["clone"] ?? ""}/log?start=0&limit=50`);
    expectLike(log, derived("task_log"));
    expect(typeof log.body?.total).toBe("number");
  });

  it("the shape checker itself catches type and key differences", () => {
    const optional = new Set<string>();
    expect(shapeDiff({ data: "103" }, { data: 103 }, "body", optional)).toEqual(["body.data: string expected, got number (103)"]);
    expect(shapeDiff({ data: { template: 1 } }, { data: {} }, "body", optional)).toEqual(["body.data.template: missing"]);
    expect(shapeDiff({ data: [{ type: "cluster" }] }, { data: [{ type: "node" }] }, "body", optional)).toEqual(["body.data[0]: no item of type cluster"]);
  });
});
