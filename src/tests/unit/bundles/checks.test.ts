import { describe, expect, it } from "vitest";
import { checkReleases, knownCharts, type ChartFacts, type GraphRelease, type InstallSettings } from "../../../bundles/index.js";

const charts = new Map<string, ChartFacts>([
  ["cozy-a", { source: "test", privileged: false }],
  ["cozy-b", { source: "test", privileged: false }],
  ["cozy-priv", { source: "test", privileged: true }],
]);
const none: InstallSettings = { enable: [], disable: [] };
const r = (name: string, dependsOn: string[] = [], extra: Partial<GraphRelease> = {}): GraphRelease => ({
  name,
  chart: "cozy-a",
  namespace: `ns-${name}`,
  dependsOn,
  ...extra,
});

describe("checkReleases", () => {
  it("accepts a closed, acyclic graph of known charts", () => {
    expect(checkReleases([r("a"), r("b", ["a"]), r("c", ["a", "b"])], none, charts)).toEqual([]);
  });

  it("names duplicate releases", () => {
    expect(checkReleases([r("a"), r("b"), r("a")], none, charts)).toEqual(["release a: the name appears 2 times"]);
  });

  it("names the release whose dependency is missing", () => {
    expect(checkReleases([r("a"), r("b", ["a", "ghost"])], none, charts)).toEqual(["release b: dependsOn ghost, which is not in the bundle"]);
  });

  it("reports a cycle once, with its path", () => {
    const problems = checkReleases([r("c", ["a"]), r("a", ["b"]), r("b", ["c"]), r("d", ["a"])], none, charts);
    expect(problems).toEqual(["dependency cycle: a -> b -> c -> a"]);
    expect(checkReleases([r("self", ["self"])], none, charts)).toEqual(["dependency cycle: self -> self"]);
  });

  it("names releases with charts that exist nowhere", () => {
    expect(checkReleases([r("a", [], { chart: "cozy-missing" })], none, charts)).toEqual([
      "release a: chart cozy-missing is neither a CozyStack v0.37.10 system chart (system-charts.tsv) nor an overlay chart",
    ]);
  });

  it("refuses a dependency that bundle-disable leaves out, but not a disabled dependent", () => {
    const releases = [r("cilium"), r("app", ["cilium"])];
    expect(checkReleases(releases, { enable: [], disable: ["cilium"] }, charts)).toEqual([
      "release app: dependsOn cilium, which is left out by cozystack.bundleDisable",
      "tenant-root (platform chart apps.yaml): dependsOn cilium, which is left out by cozystack.bundleDisable",
    ]);
    expect(checkReleases(releases, { enable: [], disable: ["app"] }, charts)).toEqual([]);
  });

  it("refuses a dependency on an optional release unless it is enabled", () => {
    const releases = [r("opt", [], { optional: true }), r("app", ["opt"])];
    expect(checkReleases(releases, none, charts)).toEqual(["release app: dependsOn opt, which is optional and not in cozystack.bundleEnable"]);
    expect(checkReleases(releases, { enable: ["opt"], disable: [] }, charts)).toEqual([]);
    // An optional release that is not installed may depend on releases that are not installed either,
    // but not on releases missing from the bundle.
    expect(checkReleases([r("opt", ["opt2"], { optional: true }), r("opt2", [], { optional: true })], none, charts)).toEqual([]);
    expect(checkReleases([r("opt", ["ghost"], { optional: true })], none, charts)).toEqual(["release opt: dependsOn ghost, which is not in the bundle"]);
  });

  it("refuses a dependency on keycloak unless OIDC is on", () => {
    const releases = [r("keycloak"), r("dashboard", ["keycloak"])];
    expect(checkReleases(releases, none, charts)).toEqual(['release dashboard: dependsOn keycloak, which is installed only when oidc-enabled is "true"']);
    expect(checkReleases(releases, { ...none, oidcEnabled: true }, charts)).toEqual([]);
  });

  it("requires a privileged namespace for charts that need one", () => {
    const plain = r("csi", [], { chart: "cozy-priv", namespace: "storage" });
    expect(checkReleases([plain], none, charts)).toEqual([
      "release csi: chart cozy-priv (test) needs a privileged namespace, but no release in storage is privileged: true",
    ]);
    expect(checkReleases([{ ...plain, privileged: true }], none, charts)).toEqual([]);
    // Another release marking the namespace is enough, as the platform chart labels per namespace.
    expect(checkReleases([plain, r("other", [], { namespace: "storage", privileged: true })], none, charts)).toEqual([]);
  });

  it("knows every CozyStack v0.37.10 system chart and the overlay's", () => {
    const all = knownCharts();
    expect(all.get("cozy-cilium")?.privileged).toBe(true);
    expect(all.get("cozystack-resource-definitions")?.privileged).toBe(false);
    expect(all.get("cozy-proxmox-csi")?.source).toBe("overlay packages/system/proxmox-csi");
    expect(all.has("cozy-capi-providers-infraprovider-proxmox")).toBe(true);
    expect(all.has("cozy-monitoring")).toBe(false); // the upstream draft's invented chart
  });
});
