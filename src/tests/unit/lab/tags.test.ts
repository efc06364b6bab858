/** Tags as PVE stores them (capmox appends `old;new`, and reads them back as a set). */
import { describe, expect, it } from "vitest";
import { normalizeTags } from "../../../lab/handlers/config-update.js";

describe("tag normalisation", () => {
  it("splits on ; , and spaces, drops empties and repeats, sorts", () => {
    expect(normalizeTags("k8s-template;ubuntu-2404;capmox, zz-capi capmox;;")).toBe("capmox;k8s-template;ubuntu-2404;zz-capi");
    expect(normalizeTags("")).toBe("");
    expect(normalizeTags("b a")).toBe("a;b");
  });
});
