import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { referencePath } from "../../../paths.js";
import { errorFromResponse, isLocked, isNotFound, kindForStatus, ProxmoxApiError, ProxmoxTaskError } from "../../../proxmox/index.js";

interface Fixture {
  request: { method: "GET" | "POST" | "PUT" | "DELETE"; path: string };
  response: { status: number; status_line: string; body: unknown };
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(referencePath("pve", "fixtures-derived", `${name}.json`), "utf8")) as Fixture;
}

/** Builds the client's error from a recorded PVE error response. */
function errorFor(name: string): ProxmoxApiError {
  const f = fixture(name);
  const reason = f.response.status_line.replace(/^HTTP\/1\.1 \d+ /, "");
  return errorFromResponse({
    method: f.request.method,
    path: f.request.path.replace(/^\/api2\/json/, "").split("?")[0]!,
    status: f.response.status,
    reason,
    body: f.response.body ?? undefined,
    tokenId: "capmox@pve!capi",
    scrub: (t) => t,
  });
}

describe("errorFromResponse on recorded PVE errors", () => {
  it("400: parameter kind with the per-parameter errors map", () => {
    const e = errorFor("err_400_param");
    expect(e.kind).toBe("parameter");
    expect(e.status).toBe(400);
    expect(e.reason).toBe("Parameter verification failed.");
    expect(e.errors).toEqual({
      cores: "type check ('integer') failed - got 'abc'",
      onboot: "type check ('boolean') failed - got 'true'",
      foo: "property is not defined in schema and the schema does not allow additional properties",
    });
    expect(e.method).toBe("POST");
    expect(e.path).toBe("/nodes/pve1/qemu/101/config");
    expect(e.message).toContain("POST /nodes/pve1/qemu/101/config: 400 Parameter verification failed.");
    expect(e.message).toContain("cores: type check ('integer') failed - got 'abc'");
  });

  it("401 (empty body): auth kind with guidance naming the token, not the secret", () => {
    const e = errorFor("err_401_no_ticket");
    expect(e.kind).toBe("auth");
    expect(e.reason).toBe("No ticket");
    expect(e.pveMessage).toBeUndefined();
    expect(e.message).toContain("capmox@pve!capi");
    expect(e.message).toContain("PROXMOX_SECRET");
  });

  it("403: permission kind with PVE's path and privilege", () => {
    const e = errorFor("err_403_perm");
    expect(e.kind).toBe("permission");
    expect(e.reason).toBe("Permission check failed (/vms/101, VM.Audit)");
  });

  it("500 locked / missing config / other business errors", () => {
    const locked = errorFor("err_500_locked");
    expect(locked.kind).toBe("locked");
    expect(isLocked(locked)).toBe(true);
    const missing = errorFor("err_500_missing_vm");
    expect(missing.kind).toBe("not-found");
    expect(isNotFound(missing)).toBe(true);
    expect(missing.reason).toBe("Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist");
    expect(errorFor("err_500_hostname").kind).toBe("business");
  });

  it("501 and 595", () => {
    expect(errorFor("err_501_no_method").kind).toBe("not-implemented");
    const proxy = errorFor("err_595_proxy");
    expect(proxy.kind).toBe("proxy");
    expect(proxy.reason).toBe("Connection refused");
  });

  it("the taken-VMID 400 of /cluster/nextid keeps errors.vmid", () => {
    const e = errorFor("cluster_nextid_taken");
    expect(e.kind).toBe("parameter");
    expect(e.errors?.vmid).toBe("VM 101 already exists");
  });

  it("falls back to the body message when the reason phrase is empty, and scrubs secrets", () => {
    const e = errorFromResponse({
      method: "PUT",
      path: "/x",
      status: 500,
      reason: "",
      body: { data: null, message: "bad value s3cr3t-token\nsecond line\n", errors: { a: "got s3cr3t-token" } },
      tokenId: "a@pve!b",
      scrub: (t) => t.split("s3cr3t-token").join("<redacted>"),
    });
    expect(e.reason).toBe("bad value <redacted>");
    expect(e.pveMessage).toBe("bad value <redacted>\nsecond line");
    expect(e.errors).toEqual({ a: "got <redacted>" });
    expect(inspect(e)).not.toContain("s3cr3t-token");
  });
});

describe("kindForStatus", () => {
  it.each([
    [400, "", "parameter"],
    [401, "", "auth"],
    [403, "", "permission"],
    [500, "VM is locked (clone)", "locked"],
    [500, "CT is locked (backup)", "locked"],
    [500, "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout", "locked"],
    [500, "unable to find configuration file for VM 999 on node 'pve1'", "not-found"],
    [500, "VM 101 is running - destroy failed", "business"],
    [501, "", "not-implemented"],
    [502, "", "server"],
    [503, "", "server"],
    [595, "", "proxy"],
    [596, "", "proxy"],
    [404, "", "http"],
    [506, "", "server"],
  ] as const)("%i %s → %s", (status, text, kind) => {
    expect(kindForStatus(status, text)).toBe(kind);
  });
});

describe("error classes", () => {
  it("keep cause, and instanceof distinguishes task errors", () => {
    const cause = new Error("ECONNRESET");
    const e = new ProxmoxApiError({ kind: "network", method: "GET", path: "/version", code: "ECONNRESET", cause });
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(ProxmoxApiError);
    expect(e instanceof ProxmoxTaskError).toBe(false);
    const t = new ProxmoxTaskError({ upid: "UPID:pve1:00000001:00000001:00000001:qmstart:101:root@pam:", node: "pve1", taskType: "qmstart", exitstatus: "boom", logTail: ["a", "TASK ERROR: boom"] });
    expect(t).toBeInstanceOf(ProxmoxApiError);
    expect(t).toBeInstanceOf(ProxmoxTaskError);
    expect(t.kind).toBe("task");
    expect(t.message).toContain("TASK ERROR: boom");
  });

  it("markAttempts records retries in the message", () => {
    const e = new ProxmoxApiError({ kind: "server", method: "GET", path: "/nodes", status: 503, reason: "busy" });
    e.markAttempts(3);
    expect(e.attempts).toBe(3);
    expect(e.message).toBe("GET /nodes: 503 busy (after 3 attempts)");
  });
});
