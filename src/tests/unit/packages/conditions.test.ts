import { describe, expect, it } from "vitest";
import { evaluate } from "../../../packages/index.js";

const scope = {
  values: { bundles: { iaas: { enabled: true }, system: { variant: "isp-full" }, enabledPackages: ["cozystack.velero"], disabledPackages: [] } },
  variables: { $name: "cozystack.velero" },
};

describe("the platform chart's guard expressions", () => {
  it.each([
    [".Values.bundles.iaas.enabled", true],
    [".Values.bundles.paas.enabled", false],
    ['eq .Values.bundles.system.variant "isp-full"', true],
    ['and .Values.bundles.iaas.enabled (or (eq .Values.bundles.system.variant "isp-full") (eq .Values.bundles.system.variant "isp-full-generic"))', true],
    ['and .Values.bundles.iaas.enabled (not (or (eq .Values.bundles.system.variant "isp-full") (eq .Values.bundles.system.variant "isp-full-generic")))', false],
    ['has "cozystack.velero" (default (list) .Values.bundles.enabledPackages)', true],
    ["has $name (default (list) .Values.bundles.disabledPackages)", false],
  ])("%s is %s", (text, want) => {
    expect(evaluate(text, scope)).toBe(want);
  });

  it.each(["$unset", "lookup \"v1\" \"ConfigMap\" \"cozy-system\" \"cozystack\"", ".Values.x | default 1", "eq (.Values.a"])("%s cannot be read: undefined, never a guess", (text) => {
    expect(evaluate(text, scope)).toBeUndefined();
  });

  it("an unreadable operand decides nothing unless the other one does", () => {
    expect(evaluate("and $unset .Values.bundles.paas.enabled", scope)).toBe(false);
    expect(evaluate("or $unset .Values.bundles.iaas.enabled", scope)).toBe(true);
    expect(evaluate("and $unset .Values.bundles.iaas.enabled", scope)).toBeUndefined();
  });
});
