import { describe, expect, it } from "vitest";
import { type CheckSpec, type RunEvent, defaultTimeouts, fail, pass, redact, runChecks, skip } from "../../../stages/index.js";

const timeouts = { ...defaultTimeouts, "check.default": 200 };

function spec(id: string, run: CheckSpec<null>["run"], needs?: string[]): CheckSpec<null> {
  return { id, title: `title of ${id}`, run, ...(needs ? { needs } : {}) };
}

describe("runChecks", () => {
  it("runs checks in order and records verdicts, reasons, fixes and figures", async () => {
    const order: string[] = [];
    const result = await runChecks(
      1,
      "Demo",
      [
        spec("a", async () => (order.push("a"), pass("a ok", { ms: 3 }))),
        spec("b", async () => (order.push("b"), fail("b is broken", "repair b"))),
        spec("c", async () => (order.push("c"), skip("asked to skip c"))),
      ],
      null,
      { timeouts },
    );
    expect(order).toEqual(["a", "b", "c"]);
    expect(result.verdict).toBe("failed");
    expect(result.checks.map((c) => [c.id, c.verdict])).toEqual([
      ["a", "passed"],
      ["b", "failed"],
      ["c", "skipped"],
    ]);
    expect(result.checks[0]).toMatchObject({ detail: "a ok", figures: { ms: 3 } });
    expect(result.checks[1]).toMatchObject({ reason: "b is broken", fix: "repair b" });
    expect(result.figures).toEqual({ "a.ms": 3 });
  });

  it("skips a check whose prerequisite failed, naming the root failure, and never runs it", async () => {
    let ranDependent = false;
    const result = await runChecks(
      2,
      "Demo",
      [
        spec("root", async () => fail("root broken", "fix root")),
        spec("mid", async () => ((ranDependent = true), pass()), ["root"]),
        spec("leaf", async () => ((ranDependent = true), pass()), ["mid"]),
        spec("other", async () => pass()),
      ],
      null,
      { timeouts },
    );
    expect(ranDependent).toBe(false);
    expect(result.checks.find((c) => c.id === "mid")).toMatchObject({ verdict: "skipped", blockedBy: "root" });
    expect(result.checks.find((c) => c.id === "leaf")).toMatchObject({ verdict: "skipped", blockedBy: "root" });
    expect(result.checks.find((c) => c.id === "other")?.verdict).toBe("passed");
  });

  it("fails a check that overruns its limit even if it ignores its signal, naming the timeouts key", async () => {
    const result = await runChecks(1, "Demo", [spec("slow", () => new Promise(() => undefined))], null, { timeouts });
    expect(result.checks[0]?.verdict).toBe("failed");
    expect(result.checks[0]?.reason).toContain("did not finish within 200 ms");
    expect(result.checks[0]?.fix).toContain("stages.timeouts.check.default");
  });

  it("turns a thrown error into a failure with its message and cause", async () => {
    const result = await runChecks(
      1,
      "Demo",
      [spec("boom", async () => {
        throw new Error("outer", { cause: new Error("inner cause") });
      })],
      null,
      { timeouts },
    );
    expect(result.checks[0]).toMatchObject({ verdict: "failed" });
    expect(result.checks[0]?.reason).toContain("outer: inner cause");
  });

  it("stops the running check on abort and skips the rest as interrupted", async () => {
    const controller = new AbortController();
    const result = await runChecks(
      1,
      "Demo",
      [
        spec("runs", (_, signal) => new Promise((_r, reject) => {
          setTimeout(() => controller.abort(new Error("SIGINT")), 10);
          signal.addEventListener("abort", () => reject(signal.reason));
        })),
        spec("after", async () => pass()),
      ],
      null,
      { timeouts: { ...timeouts, "check.default": 5_000 }, signal: controller.signal },
    );
    expect(result.checks.map((c) => c.verdict)).toEqual(["skipped", "skipped"]);
    expect(result.checks[0]?.reason).toContain("interrupted");
    expect(result.checks[1]?.reason).toContain("interrupted");
  });

  it("scrubs secrets from every text it records", async () => {
    const secret = "0b1c2d3e-aaaa-bbbb-cccc-123456789abc";
    const result = await runChecks(
      1,
      "Demo",
      [spec("leaky", async () => fail(`server said ${secret}`, `do not paste ${secret}`))],
      null,
      { timeouts, secrets: [secret] },
    );
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(result.checks[0]?.reason).toBe("server said ***");
    expect(redact("x", ["ab"])).toBe("x");
  });

  it("emits stage-start, check-start/check-end per check, and stage-end", async () => {
    const events: RunEvent["type"][] = [];
    await runChecks(1, "Demo", [spec("a", async () => pass()), spec("b", async () => pass())], null, {
      timeouts,
      onEvent: (e) => events.push(e.type),
    });
    expect(events).toEqual(["stage-start", "check-start", "check-end", "check-start", "check-end", "stage-end"]);
  });

  it("refuses a check that needs a later or unknown check, and duplicate ids", async () => {
    await expect(runChecks(1, "Demo", [spec("a", async () => pass(), ["b"]), spec("b", async () => pass())], null, { timeouts })).rejects.toThrow(
      "check a needs b, which is not an earlier check",
    );
    await expect(runChecks(1, "Demo", [spec("a", async () => pass()), spec("a", async () => pass())], null, { timeouts })).rejects.toThrow(
      "check id a is used twice",
    );
  });
});
