/**
 * The lab's input limits: defaults, overrides, refusal of values that are not positive
 * integers (naming the field and the value), and the shared budget of buffered body bytes.
 */
import { describe, expect, it } from "vitest";
import { ByteBudget, DEFAULT_LIMITS, resolveLimits } from "../../../lab/limits.js";

describe("resolveLimits", () => {
  it("keeps PVE's 512 KiB body limit and the lab's upload, buffer and time limits by default", () => {
    expect(resolveLimits()).toEqual({
      maxBodyBytes: 524_288,
      maxUploadBytes: 67_108_864,
      maxBufferedBytes: 268_435_456,
      maxStoredBytes: 1_073_741_824,
      bodyTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
    });
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
  });

  it("overrides only the fields given", () => {
    expect(resolveLimits({ bodyTimeoutMs: 250 })).toEqual({ ...DEFAULT_LIMITS, bodyTimeoutMs: 250 });
  });

  it.each([
    [{ bodyTimeoutMs: 0 }, "limits.bodyTimeoutMs 0 must be a positive integer"],
    [{ maxBodyBytes: -1 }, "limits.maxBodyBytes -1 must be a positive integer"],
    [{ headersTimeoutMs: 1.5 }, "limits.headersTimeoutMs 1.5 must be a positive integer"],
    [{ maxUploadBytes: Number.NaN }, "limits.maxUploadBytes NaN must be a positive integer"],
    [{ maxUploadBytes: 2048, maxBufferedBytes: 1024 }, "limits.maxUploadBytes 2048 is more than limits.maxBufferedBytes 1024"],
  ])("refuses %j", (limits, message) => {
    expect(() => resolveLimits(limits)).toThrow(message);
  });
});

describe("ByteBudget", () => {
  it("gives out bytes up to its maximum and takes them back", () => {
    const budget = new ByteBudget(100);
    expect(budget.take(60)).toBe(true);
    expect(budget.take(41)).toBe(false);
    expect(budget.held).toBe(60);
    expect(budget.take(40)).toBe(true);
    budget.give(100);
    expect(budget.held).toBe(0);
    budget.give(5);
    expect(budget.held).toBe(0);
  });
});
