import { describe, expect, it } from "vitest";
import { ProxmoxApiError, ProxmoxTaskError, waitForTask, type TaskStatus } from "../../../proxmox/index.js";

const upid = "UPID:pve2:0001F300:002A3B4C:6790A1C0:qmclone:100:capmox@pve!capi:";

function status(partial: Partial<TaskStatus>): TaskStatus {
  return { upid, node: "pve2", pid: 1, pstart: 1, starttime: 1, type: "qmclone", id: "100", user: "capmox@pve", status: "running", ...partial };
}

/** A task API that answers a scripted sequence of statuses and records the calls. */
function scripted(statuses: TaskStatus[], log: string[] = []) {
  const calls: string[] = [];
  return {
    calls,
    api: {
      taskStatus: async (u: string, node?: string) => {
        calls.push(`status ${node} ${u}`);
        return statuses.length > 1 ? statuses.shift()! : statuses[0]!;
      },
      taskLogTail: async (_u: string, lines?: number) => {
        calls.push(`log ${lines}`);
        return log.slice(-(lines ?? 20));
      },
    },
  };
}

describe("waitForTask", () => {
  it("polls the UPID's node until stopped and returns the exit status", async () => {
    const { api, calls } = scripted([status({}), status({}), status({ status: "stopped", exitstatus: "OK" })]);
    const result = await waitForTask(api, upid, { pollIntervalMs: 1 });
    expect(result).toMatchObject({ upid, node: "pve2", type: "qmclone", id: "100", exitstatus: "OK", warnings: 0 });
    expect(calls).toEqual([`status pve2 ${upid}`, `status pve2 ${upid}`, `status pve2 ${upid}`]);
  });

  it("accepts warnings unless failOnWarnings", async () => {
    const stopped = status({ status: "stopped", exitstatus: "WARNINGS: 2" });
    await expect(waitForTask(scripted([stopped]).api, upid)).resolves.toMatchObject({ warnings: 2 });
    await expect(waitForTask(scripted([stopped], ["w1", "TASK WARNINGS: 2"]).api, upid, { failOnWarnings: true })).rejects.toBeInstanceOf(ProxmoxTaskError);
  });

  it("throws ProxmoxTaskError with the log tail on failure", async () => {
    const log = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).concat("TASK ERROR: clone failed: boom");
    const { api } = scripted([status({ status: "stopped", exitstatus: "clone failed: boom" })], log);
    const error = (await waitForTask(api, upid, { logTailLines: 3 }).catch((e: unknown) => e)) as ProxmoxTaskError;
    expect(error).toBeInstanceOf(ProxmoxTaskError);
    expect(error.exitstatus).toBe("clone failed: boom");
    expect(error.logTail).toEqual(["line 29", "line 30", "TASK ERROR: clone failed: boom"]);
    expect(error.message).toContain("task qmclone");
    expect(error.message).toContain("TASK ERROR: clone failed: boom");
  });

  it("still reports the failure when the log cannot be read", async () => {
    const api = {
      taskStatus: async () => status({ status: "stopped", exitstatus: "boom" }),
      taskLogTail: async () => {
        throw new Error("403 Permission check failed");
      },
    };
    const error = (await waitForTask(api, upid).catch((e: unknown) => e)) as ProxmoxTaskError;
    expect(error.exitstatus).toBe("boom");
    expect(error.logTail[0]).toContain("task log unavailable: 403 Permission check failed");
  });

  it("times out with kind timeout", async () => {
    const { api } = scripted([status({})]);
    const error = (await waitForTask(api, upid, { timeoutMs: 30, pollIntervalMs: 5 }).catch((e: unknown) => e)) as ProxmoxApiError;
    expect(error).toBeInstanceOf(ProxmoxApiError);
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("still running after 30 ms");
  });

  it("stops when aborted", async () => {
    const { api } = scripted([status({})]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const error = (await waitForTask(api, upid, { pollIntervalMs: 1000, signal: controller.signal }).catch((e: unknown) => e)) as ProxmoxApiError;
    expect(error.kind).toBe("aborted");
  });
});
