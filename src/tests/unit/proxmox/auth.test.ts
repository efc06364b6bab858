import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { parseTokenId, ProxmoxConfigError, Secret, TokenCredentials } from "../../../proxmox/index.js";

const secret = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

describe("parseTokenId", () => {
  it("splits user@realm!tokenname", () => {
    expect(parseTokenId("capmox@pve!capi")).toEqual({ user: "capmox", realm: "pve", tokenName: "capi" });
    expect(parseTokenId("root@pam!ci-token_1.x")).toEqual({ user: "root", realm: "pam", tokenName: "ci-token_1.x" });
  });

  it.each(["capmox@pve", "capmox!capi", "@pve!capi", "capmox@pve!", "cap mox@pve!capi", "capmox@pve!capi=secret"])(
    "refuses %s naming the field and value",
    (value) => {
      expect(() => parseTokenId(value, "PROXMOX_TOKEN")).toThrow(ProxmoxConfigError);
      expect(() => parseTokenId(value, "PROXMOX_TOKEN")).toThrow(`PROXMOX_TOKEN: '${value}'`);
    },
  );
});

describe("TokenCredentials", () => {
  it("builds PVE's header", () => {
    expect(new TokenCredentials("capmox@pve!capi", secret).authorizationHeader()).toBe(`PVEAPIToken=capmox@pve!capi=${secret}`);
  });

  it("never shows the secret through inspect, JSON, String or template literals", () => {
    const c = new TokenCredentials("capmox@pve!capi", secret);
    for (const shown of [inspect(c), inspect({ nested: { c } }, { depth: 10, showHidden: true }), JSON.stringify(c), String(c), `${c}`]) {
      expect(shown).not.toContain(secret);
      expect(shown).toContain("capmox@pve!capi");
    }
  });

  it("scrubs the secret out of text", () => {
    const c = new TokenCredentials("capmox@pve!capi", secret);
    expect(c.scrub(`echo ${secret} and ${secret}`)).toBe("echo <redacted> and <redacted>");
    expect(c.scrub("nothing here")).toBe("nothing here");
  });

  it("refuses an empty or whitespace secret without echoing it", () => {
    expect(() => new TokenCredentials("ci@pve!t1", "")).toThrow("secret: the API token secret is empty");
    try {
      new TokenCredentials("ci@pve!t1", "abc def-secretish");
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/^secret: /);
      expect((e as Error).message).not.toContain("secretish");
    }
  });
});

describe("Secret", () => {
  it("reveals only on request", () => {
    const s = new Secret(secret);
    expect(s.reveal()).toBe(secret);
    const holder = { url: "https://x", secret: s };
    expect(inspect(holder, { showHidden: true, depth: 5 })).not.toContain(secret);
    expect(JSON.stringify(holder)).toBe('{"url":"https://x","secret":"<redacted>"}');
    expect(`${s}`).toBe("<redacted>");
  });
});
