import { describe, expect, it } from "vitest";
import { isUpid, parseUpid, ProxmoxConfigError, warningsOf } from "../../../proxmox/index.js";

describe("parseUpid", () => {
  it("reads every field of a token-owned clone UPID", () => {
    const info = parseUpid("UPID:pve1:0001F300:002A3B4C:6790A1C0:qmclone:100:capmox@pve!capi:");
    expect(info).toEqual({
      upid: "UPID:pve1:0001F300:002A3B4C:6790A1C0:qmclone:100:capmox@pve!capi:",
      node: "pve1",
      pid: 0x1f300,
      pstart: 0x2a3b4c,
      starttime: 0x6790a1c0,
      type: "qmclone",
      id: "100",
      user: "capmox@pve!capi",
    });
  });

  it("accepts a 9-digit pstart and an empty id (upload tasks)", () => {
    const info = parseUpid("UPID:node-2:0001F700:1002A3B4C:6790A500:imgcopy::root@pam:");
    expect(info.node).toBe("node-2");
    expect(info.pstart).toBe(0x1002a3b4c);
    expect(info.type).toBe("imgcopy");
    expect(info.id).toBe("");
  });

  it.each([
    ["missing trailing colon", "UPID:pve1:0001F300:002A3B4C:6790A1C0:qmclone:100:root@pam"],
    ["short pid", "UPID:pve1:1F300:002A3B4C:6790A1C0:qmclone:100:root@pam:"],
    ["node with underscore", "UPID:pve_1:0001F300:002A3B4C:6790A1C0:qmclone:100:root@pam:"],
    ["not a UPID", "103"],
    ["empty", ""],
  ])("refuses %s, naming the value", (_what, value) => {
    expect(() => parseUpid(value)).toThrow(ProxmoxConfigError);
    expect(() => parseUpid(value)).toThrow(`upid: '${value}'`);
  });

  it("isUpid agrees with parseUpid", () => {
    expect(isUpid("UPID:pve1:0001F300:002A3B4C:6790A1C0:qmstart:101:root@pam:")).toBe(true);
    expect(isUpid(null)).toBe(false);
    expect(isUpid("UPID:pve1::")).toBe(false);
  });
});

describe("warningsOf", () => {
  it("counts warnings, and returns undefined for failures", () => {
    expect(warningsOf("OK")).toBe(0);
    expect(warningsOf("WARNINGS: 3")).toBe(3);
    expect(warningsOf("clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout")).toBeUndefined();
    expect(warningsOf("unexpected status")).toBeUndefined();
  });
});
