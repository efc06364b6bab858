/**
 * A client we did not write drives the lab: the Go program in ./go-client uses the real
 * github.com/luthermonson/go-proxmox module (what capmox uses) for a full clone to shared storage
 * on another node (capmox's target = any allowed node) → configure →
 * resize → cloud-init ISO → start → agent → stop → delete, with TLS verified against the
 * lab's CA. Needs the Go toolchain (and the Go module proxy on first build).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultScenario, startLab, type LabHandle } from "../../../lab/index.js";
import { cacheDir } from "../../../paths.js";

const sourceDir = fileURLToPath(new URL("./go-client", import.meta.url));
const outDir = join(cacheDir, "lab-go-client");
const binary = join(outDir, "go-client");

function hasGo(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const goAvailable = hasGo();
if (!goAvailable) {
  console.warn(
    "\n*** SKIPPING the go-proxmox client test: the Go toolchain (`go`) is not installed. " +
      "Install Go >= 1.25 to prove that a real third-party client drives the lab. ***\n",
  );
}

describe.skipIf(!goAvailable)("go-proxmox (capmox's client) against the lab", () => {
  let lab: LabHandle;

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    // `go build` caches; the first run downloads go-proxmox through the Go module proxy.
    await execa("go", ["build", "-o", binary, "."], { cwd: sourceDir, timeout: 600_000 });
    // pve3 with an odd CPU count: its cpuinfo.cores must still be an integer.
    const scenario = defaultScenario();
    lab = await startLab({ taskDurationMs: 30, scenario: { ...scenario, nodes: scenario.nodes.map((n) => (n.name === "pve3" ? { ...n, cpus: 7 } : n)) } });
  }, 600_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it("runs clone → configure → start → status → agent → stop → delete like against a real PVE", async () => {
    const caFile = join(outDir, "lab-ca.pem");
    writeFileSync(caFile, lab.caPem ?? "");
    const run = await execa(binary, [], {
      env: {
        PROXMOX_URL: lab.url,
        PROXMOX_TOKEN: lab.tokens.admin.id,
        PROXMOX_SECRET: lab.tokens.admin.secret,
        PROXMOX_CA_FILE: caFile,
      },
      reject: false,
      timeout: 120_000,
    });
    expect(run.stdout, run.stderr).toContain("ALL STEPS PASSED");
    expect(run.exitCode).toBe(0);
    for (const step of ["version", "cluster", "template", "node", "nodes", "nextid", "target", "clone", "configure", "cloud-init", "status", "agent", "stop", "delete"]) {
      expect(run.stdout).toMatch(new RegExp(`^step ${step}: `, "m"));
    }
    expect(run.stdout).toMatch(/^step version: release 9\.1$/m);
    expect(run.stdout).toMatch(/^step template: 9000 on pve1$/m);
    expect(run.stdout).toMatch(/^step nodes: cpuinfo cores\/cpus pve1=8\/16 pve2=8\/16 pve3=3\/7$/m);
    // PVE splits tags on ; , and space, drops empties and repeats, and sorts them.
    expect(run.stdout).toMatch(/^step configure: .* tags=capmox;k8s-template;ubuntu-2404;zz-capi$/m);
    // The template's disk is on the shared ceph-vm, so the clone may go to another node.
    expect(run.stdout).toMatch(/^step target: pve2 storage=ceph-vm$/m);
    expect(run.stdout).toMatch(/^step clone: \d+ capmox-worker-0 on pve2 scsi0=ceph-vm:vm-\d+-disk-0,discard=on,iothread=1,size=16G providerID=/m);
    // What the client did is visible in the lab: the VM and its disks are gone; the cloud-init ISO was
    // uploaded (imgcopy) and, because the VM carried go-proxmox's cloud-init tag, found and deleted (imgdel).
    const vmid = Number(/^step nextid: (\d+)$/m.exec(run.stdout)?.[1]);
    expect(lab.state.vms.has(vmid)).toBe(false);
    expect(lab.state.volumes.map((v) => `${v.storage}:${v.volname}`)).toEqual(["ceph-vm:base-9000-disk-0"]);
    const tasks = [...lab.state.tasks.values()].map((t) => `${t.node}:${t.type}`);
    // The clone runs on the template's node; everything after it on the target node.
    expect(tasks).toEqual([
      "pve1:qmclone",
      ...["qmconfig", "resize", "imgcopy", "qmconfig", "qmconfig", "qmstart", "qmstop", "imgdel", "qmdestroy"].map((t) => `pve2:${t}`),
    ]);
    expect([...lab.state.tasks.values()].every((t) => t.authid === lab.tokens.admin.id && t.exitstatus === "OK")).toBe(true);
  });

  it("fails with a TLS error when the CA is not trusted", async () => {
    const run = await execa(binary, [], {
      env: { PROXMOX_URL: lab.url, PROXMOX_TOKEN: lab.tokens.admin.id, PROXMOX_SECRET: lab.tokens.admin.secret, PROXMOX_CA_FILE: "/dev/null" },
      reject: false,
      timeout: 60_000,
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/FAIL version: .*certificate/);
  });
});
