import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  JSON_REPORT_FORMAT,
  type RunResult,
  type StageResult,
  createProgress,
  renderJson,
  renderJunit,
  renderTable,
  writeReports,
} from "../../../stages/index.js";
import { parseJunit } from "../../support/junit.js";

const stage1: StageResult = {
  stage: 1,
  title: "Proxmox API connection",
  verdict: "failed",
  startedAt: "2026-01-01T10:00:00.000Z",
  durationMs: 1234,
  figures: { "api.latency.p50Ms": 12, "api.latency.p95Ms": 40 },
  checks: [
    { id: "api.url", title: "URL well formed", verdict: "passed", detail: "https://pve:8006", durationMs: 1, figures: {} },
    {
      id: "api.privileges.capmox",
      title: "token privileges for capmox",
      verdict: "failed",
      reason: `/vms/9000: missing VM.Clone <&> "quoted" \u0007bell`,
      fix: "pveum acl modify /vms/9000 -token 'capmox@pve!capi' -role CozyCapmoxTemplate",
      durationMs: 20,
      figures: { missing: 1 },
    },
    { id: "api.latency", title: "API latency", verdict: "skipped", reason: "not run: prerequisite check api.auth failed", blockedBy: "api.auth", durationMs: 0, figures: {} },
  ],
};
const stage3: StageResult = {
  stage: 3,
  title: "VM management via Cluster API",
  verdict: "not-run",
  reason: "not runnable here: stage 3 needs the management cluster",
  checks: [],
  durationMs: 0,
  figures: {},
};
const run: RunResult = { stages: [stage1, stage3], ok: false, startedAt: "2026-01-01T10:00:00.000Z", durationMs: 1300 };

/** A passing run whose TLS check passed with a reduced guarantee (PROXMOX_INSECURE=true). */
const warned: RunResult = {
  stages: [
    {
      ...stage1,
      verdict: "passed",
      checks: [
        stage1.checks[0]!,
        {
          id: "api.tls",
          title: "TLS verified, pinned, or explicitly insecure",
          verdict: "warning",
          detail: "connected; the server presents certificate subject CN=pve",
          reason: "TLS verification is OFF because insecure is set explicitly",
          fix: "verify instead: set PROXMOX_FINGERPRINT",
          durationMs: 3,
          figures: { mode: "insecure" },
        },
      ],
    },
  ],
  ok: true,
  startedAt: "2026-01-01T10:00:00.000Z",
  durationMs: 40,
};

describe("a check that passed with a reduced guarantee", () => {
  it("has its own mark in the terminal table, and the summary line counts it", () => {
    const text = renderTable(warned, { color: false });
    expect(text).toContain("WARN  api.tls");
    expect(text).not.toContain("PASS  api.tls");
    expect(text).toContain("Warning: TLS verification is OFF");
    expect(text).toContain("Fix: verify instead: set PROXMOX_FINGERPRINT");
    expect(text).toContain("1 passed, 1 warnings, 0 failed, 0 skipped");
    expect(text).toContain("Result: all checks passed (1 warning: a reduced guarantee, see WARN above)");
    expect(renderTable(warned, { color: true })).toMatch(/\u001b\[33mWARN\u001b\[0m/);
  });

  it("is marked in JUnit: a passing case with a verdict property, the warning on system-err, counted per suite", () => {
    const suite = parseJunit(renderJunit(warned)).suites[0]!;
    const tls = suite.cases.find((c) => c.name.startsWith("api.tls"))!;
    expect(tls.failure).toBeUndefined();
    expect(tls.skipped).toBeUndefined();
    expect(tls.properties).toEqual({ verdict: "warning" });
    expect(tls.systemErr).toContain("WARNING: TLS verification is OFF");
    expect(suite.properties["stage.warnings"]).toBe("1");
    expect(suite.cases[0]!.properties).toBeUndefined();
  });

  it("is its own verdict in JSON, counted in the summary", () => {
    const parsed = JSON.parse(renderJson(warned)) as RunResult & { summary: Record<string, number> };
    expect(parsed.stages[0]!.checks[1]!.verdict).toBe("warning");
    expect(parsed.summary).toEqual({ passed: 1, warning: 1, failed: 0, skipped: 0 });
  });
});

describe("JUnit report", () => {
  it("is well-formed XML with one testsuite per stage and one testcase per check", () => {
    const report = parseJunit(renderJunit(run));
    expect(report.attributes).toMatchObject({ tests: "4", failures: "1", errors: "0", skipped: "2" });
    expect(report.suites.map((s) => s.name)).toEqual(["stage 1: Proxmox API connection", "stage 3: VM management via Cluster API"]);
    expect(report.suites[0]?.attributes).toMatchObject({ tests: "3", failures: "1", skipped: "1", time: "1.234", timestamp: "2026-01-01T10:00:00" });
    const cases = report.suites[0]!.cases;
    expect(cases.map((c) => c.name)).toEqual([
      "api.url: URL well formed",
      "api.privileges.capmox: token privileges for capmox",
      "api.latency: API latency",
    ]);
    expect(cases.every((c) => c.classname === "stage1")).toBe(true);
    expect(cases[0]?.systemOut).toBe("https://pve:8006");
  });

  it("carries the reason as failure message and reason plus fix as its text, escaped", () => {
    const cases = parseJunit(renderJunit(run)).suites[0]!.cases;
    expect(cases[1]?.failure?.message).toBe(`/vms/9000: missing VM.Clone <&> "quoted" bell`);
    expect(cases[1]?.failure?.text).toContain("What to do: pveum acl modify /vms/9000 -token 'capmox@pve!capi' -role CozyCapmoxTemplate");
    expect(cases[2]?.skipped).toBe("not run: prerequisite check api.auth failed");
  });

  it("puts stage timings and measured figures in suite properties", () => {
    const props = parseJunit(renderJunit(run)).suites[0]!.properties;
    expect(props).toMatchObject({ "stage.verdict": "failed", "stage.durationMs": "1234", "api.latency.p50Ms": "12", "api.latency.p95Ms": "40" });
  });

  it("shows a stage that did not run as a skipped testcase, never as passed", () => {
    const suite = parseJunit(renderJunit(run)).suites[1]!;
    expect(suite.attributes.skipped).toBe("1");
    expect(suite.cases).toEqual([{ classname: "stage3", name: "stage 3 not run", time: "0.000", skipped: "not runnable here: stage 3 needs the management cluster" }]);
  });

  it("fails to parse broken XML (the parser is strict)", () => {
    expect(() => parseJunit("<testsuites><testsuite></testsuites>")).toThrow("not well formed");
  });
});

describe("JSON report", () => {
  it("is the run result with a format marker", () => {
    const parsed = JSON.parse(renderJson(run)) as RunResult & { format: string };
    expect(parsed.format).toBe(JSON_REPORT_FORMAT);
    expect(parsed.stages[0]?.checks[1]?.fix).toContain("pveum acl modify");
    expect(parsed.ok).toBe(false);
  });

  it("writes reports whole into the report directory (no temp files left)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stage-reports-"));
    try {
      const written = await writeReports(run, join(dir, "nested"), ["json", "junit"]);
      expect(written.map((p) => p.slice(dir.length))).toEqual(["/nested/stages.json", "/nested/stages.junit.xml"]);
      expect((await readdir(join(dir, "nested"))).sort()).toEqual(["stages.json", "stages.junit.xml"]);
      expect(await readFile(join(dir, "nested", "stages.junit.xml"), "utf8")).toBe(renderJunit(run));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("terminal reporter", () => {
  it("renders a table with verdict, duration, problem and fix, and says which stages did not run", () => {
    const text = renderTable(run, { color: false });
    expect(text).toContain("PASS  api.url");
    expect(text).toContain("FAIL  api.privileges.capmox");
    expect(text).toContain("Problem: /vms/9000: missing VM.Clone");
    expect(text).toContain("Fix: pveum acl modify /vms/9000");
    expect(text).toContain("SKIP  api.latency");
    expect(text).toContain("NOT RUN  not runnable here: stage 3 needs the management cluster");
    expect(text).toContain("Not run (not counted as passed): stage 3");
    expect(text).toContain("measured: api.latency.p50Ms=12, api.latency.p95Ms=40");
    expect(text).toContain("Result: FAILED");
    expect(text).not.toMatch(/\u001b\[/);
  });

  it("says which stages a passing run covered when some did not run", () => {
    const passing: StageResult = { ...stage1, verdict: "passed", checks: stage1.checks.filter((c) => c.verdict !== "failed") };
    expect(renderTable({ ...run, stages: [passing, stage3], ok: true }, { color: false })).toContain("Result: all checks of stage 1 passed");
    expect(renderTable({ ...run, stages: [passing], ok: true }, { color: false })).toContain("Result: all checks passed");
  });

  it("uses colour only when asked", () => {
    expect(renderTable(run, { color: true })).toMatch(/\u001b\[31mFAIL\u001b\[0m/);
  });

  it("prints one plain line per finished check when not live", () => {
    let out = "";
    const progress = createProgress({ stream: { write: (s: string) => (out += s) }, live: false, color: false });
    progress({ type: "stage-start", stage: 1, title: "Proxmox API connection", checks: 3 });
    for (const check of stage1.checks) {
      progress({ type: "check-start", stage: 1, id: check.id, title: check.title });
      progress({ type: "check-end", stage: 1, result: check });
    }
    progress.close();
    expect(out).not.toContain("\r");
    expect(out.trim().split("\n")).toEqual([
      "Stage 1: Proxmox API connection (3 checks)",
      "  PASS URL well formed (api.url, 1 ms)",
      `  FAIL token privileges for capmox (api.privileges.capmox, 20 ms) - /vms/9000: missing VM.Clone <&> "quoted" \u0007bell`,
      "  SKIP API latency (api.latency, 0 ms) - not run: prerequisite check api.auth failed",
    ]);
  });

  it("redraws a status line with the running check and its elapsed time when live", async () => {
    let out = "";
    const progress = createProgress({ stream: { write: (s: string) => (out += s) }, live: true, color: false, refreshMs: 5 });
    progress({ type: "check-start", stage: 1, id: "api.tls", title: "TLS verified" });
    await new Promise((r) => setTimeout(r, 30));
    progress({ type: "check-end", stage: 1, result: { ...stage1.checks[0]!, id: "api.tls", title: "TLS verified" } });
    progress.close();
    expect(out).toMatch(/\r\u001b\[2K[|/\\-] TLS verified \(api\.tls, \d+ ms\)/);
    expect(out.match(/TLS verified \(api\.tls/g)!.length).toBeGreaterThan(2);
    expect(out.endsWith("PASS TLS verified (api.tls, 1 ms)\n")).toBe(true);
  });
});
