import { describe, expect, it } from "vitest";
import { TimeoutConfigError, defaultTimeouts, formatDuration, parseDuration, resolveTimeouts } from "../../../stages/index.js";

describe("timeouts table", () => {
  it("parses durations and plain milliseconds", () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration("1500")).toBe(1500);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("4m")).toBe(240_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("soon")).toBeUndefined();
    expect(parseDuration("5 minutes")).toBeUndefined();
    expect(parseDuration({})).toBeUndefined();
  });

  it("applies overrides from the config and keeps the rest", () => {
    const t = resolveTimeouts({ "vm.agent": "10m", "poll.task": 100 });
    expect(t["vm.agent"]).toBe(600_000);
    expect(t["poll.task"]).toBe(100);
    expect(t["vm.clone"]).toBe(defaultTimeouts["vm.clone"]);
  });

  it("rejects unknown keys and bad values, naming the field and the value", () => {
    expect(() => resolveTimeouts({ "vm.agnet": 5 })).toThrow(TimeoutConfigError);
    expect(() => resolveTimeouts({ "vm.agnet": 5 })).toThrow(/stages\.timeouts\.vm\.agnet: unknown timeout.*vm\.agent/);
    expect(() => resolveTimeouts({ "vm.clone": "fast" })).toThrow('stages.timeouts.vm.clone: expected a positive number of milliseconds or a duration like 90s, 4m, 500ms (got "fast")');
    expect(() => resolveTimeouts({ "vm.clone": 0 })).toThrow("(got 0)");
  });

  it("formats durations for people", () => {
    expect(formatDuration(340)).toBe("340 ms");
    expect(formatDuration(1234)).toBe("1.2 s");
    expect(formatDuration(300_000)).toBe("5 min");
    expect(formatDuration(245_000)).toBe("4 min 5 s");
  });
});
