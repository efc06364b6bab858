import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compareVersions, consumerGoMod, consumerReplaces, etcdSpec, kubeApiserverSpec, kubeBinarySpecs, pinnedVersion } from "../../../kube/env/index.js";
import { controllerSpecs } from "../../../mgmt/index.js";
import { repoRoot } from "../../../paths.js";

// Excerpts in the shape of the real upstream go.mod files (k8s.io/kubernetes, etcd server).
const kubernetesGoMod = `module k8s.io/kubernetes

go 1.24.0

require (
	github.com/spf13/cobra v1.8.1
	k8s.io/api v0.0.0
	k8s.io/apiserver v0.0.0
	k8s.io/kms v0.0.0 // indirect
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apiserver => ./staging/src/k8s.io/apiserver
	k8s.io/kms => ./staging/src/k8s.io/kms
)
`;

const etcdServerGoMod = `module go.etcd.io/etcd/server/v3

go 1.26.0

require (
	go.etcd.io/etcd/api/v3 v3.5.35
	go.etcd.io/etcd/client/v2 v2.305.35
)

replace (
	go.etcd.io/etcd/api/v3 => ../api
	go.etcd.io/etcd/client/v2 => ../client/v2
)

replace (
	go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY
	go.etcd.io/tests/v3 => ./FORBIDDEN_DEPENDENCY
)
`;

describe("consumer go.mod", () => {
  test("Kubernetes staging modules: the v0.0.0 placeholder becomes v0.<minor>.<patch>", () => {
    expect(consumerReplaces(kubernetesGoMod, "v1.33.13")).toEqual([
      ["k8s.io/api", "v0.33.13"],
      ["k8s.io/apiserver", "v0.33.13"],
      ["k8s.io/kms", "v0.33.13"],
    ]);
  });

  test("etcd siblings keep their own required versions; guard replaces are dropped", () => {
    expect(consumerReplaces(etcdServerGoMod, "v3.5.35")).toEqual([
      ["go.etcd.io/etcd/api/v3", "v3.5.35"],
      ["go.etcd.io/etcd/client/v2", "v2.305.35"],
    ]);
  });

  test("rendered go.mod requires the module and pins every sibling", () => {
    const text = consumerGoMod(kubeApiserverSpec, "v1.33.13", kubernetesGoMod);
    expect(text).toContain("module cozy-proxmox/tools/kube\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes v1.33.13\n");
    expect(text).toContain("\tk8s.io/apiserver => k8s.io/apiserver v0.33.13\n");
  });

  test("a go.mod without local replaces is refused", () => {
    expect(() => consumerReplaces("module x\n\ngo 1.24\n", "v1.0.0")).toThrow(/no local replace/);
  });

  test("the committed consumer modules pin every staging module of their upstream version", () => {
    for (const spec of [...kubeBinarySpecs, ...controllerSpecs]) {
      const version = pinnedVersion(spec);
      expect(version.startsWith(spec.line)).toBe(true);
      const goMod = readFileSync(join(repoRoot, spec.moduleDir, "go.mod"), "utf8");
      // A tool line of its own, or an entry of a tool block.
      expect(goMod).toMatch(new RegExp(`^(tool |\t)${spec.mainPackage.replace(/\./g, "\\.")}$`, "m"));
      // No local paths survive: every replace points at a published version.
      expect(goMod).not.toMatch(/=>\s+\.{1,2}\//);
    }
    const kubeGoMod = readFileSync(join(repoRoot, "tools/kube/go.mod"), "utf8");
    const minorPatch = pinnedVersion(kubeApiserverSpec).replace(/^v1\./, "v0.");
    for (const staging of ["k8s.io/api", "k8s.io/apiserver", "k8s.io/apiextensions-apiserver", "k8s.io/kube-aggregator", "k8s.io/client-go"]) {
      expect(kubeGoMod).toContain(`\t${staging} => ${staging} ${minorPatch}\n`);
    }
    // capmox v0.7.0's own go.mod replaces cluster-api with v1.9.5; a consumer must repeat it.
    expect(readFileSync(join(repoRoot, "tools/capmox/go.mod"), "utf8")).toMatch(/^replace sigs\.k8s\.io\/cluster-api => sigs\.k8s\.io\/cluster-api v1\.9\.5$/m);
    // source-controller v1.7.0's own go.mod replaces go-digest with the BLAKE3 commit; without it go-digest/blake3 does not build.
    expect(readFileSync(join(repoRoot, "tools/flux-source/go.mod"), "utf8")).toContain("\tgithub.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-0.20220411205349-bde1400a84be\n");
  });
});

describe("compareVersions", () => {
  test.each([
    ["v1.33.13", "v1.33.6", 1],
    ["go1.26.8", "1.26.0", 1],
    ["1.24", "1.24.0", 0],
    ["v3.5.9", "v3.5.35", -1],
  ])("%s vs %s", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});
