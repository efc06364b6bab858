import { describe, expect, it } from "vitest";
import { OWNER_TAG, isRunId, newRunId, ownedRunId, runStartedAt, runTag, vmDescription, vmName, vmTags } from "../../../vmtest/index.js";

const runId = newRunId(new Date("2026-03-04T05:06:07.890Z"), () => 0.5);

describe("VM test ownership marks", () => {
  it("makes run ids that are valid tags and carry their start time", () => {
    expect(runId).toBe("20260304t050607-8000");
    expect(isRunId(runId)).toBe(true);
    expect(/^[a-z0-9_][a-z0-9_\-+.]*$/.test(runTag(runId))).toBe(true);
    expect(runStartedAt(runId)?.toISOString()).toBe("2026-03-04T05:06:07.000Z");
    expect(runStartedAt("nope")).toBeUndefined();
  });

  it("names VMs with the run id and node, DNS-safe", () => {
    expect(vmName(runId, "pve1")).toBe(`cozy-vmtest-${runId}-pve1`);
    expect(vmName(runId, "Node_A")).toBe(`cozy-vmtest-${runId}-node-a`);
    expect(vmTags(runId)).toBe(`${OWNER_TAG};cozy-run-${runId}`);
  });

  it("recognises its VMs by tags or by description, always together with the name", () => {
    const name = vmName(runId, "pve1");
    expect(ownedRunId({ tags: vmTags(runId), name })).toBe(runId);
    expect(ownedRunId({ name, description: vmDescription(runId) })).toBe(runId);
  });

  it("never claims a VM without the run's name, or with only the owner tag", () => {
    expect(ownedRunId({ tags: vmTags(runId), name: "database" })).toBeUndefined();
    expect(ownedRunId({ tags: vmTags(runId) })).toBeUndefined();
    expect(ownedRunId({ description: vmDescription(runId) })).toBeUndefined();
    expect(ownedRunId({ name: vmName(runId, "pve1") })).toBeUndefined();
    expect(ownedRunId({ tags: OWNER_TAG, name: vmName(runId, "pve1") })).toBeUndefined();
    expect(ownedRunId({ tags: "k8s;ubuntu", name: "cozy-vmtest-foo" })).toBeUndefined();
  });
});
