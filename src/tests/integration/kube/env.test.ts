/**
 * The envtest-style environment itself: a real kube-apiserver with RBAC, an admin
 * kubeconfig (0600), the product's CRDs Established, strict server-side apply, watches,
 * and cleanup that holds even when the process that started it is killed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { KubeApiError, WaitTimeoutError, clientFromKubeconfig, conditionIs, describeCondition, waitFor, type KubeObject } from "../../../kube/index.js";
import { productCrds } from "../../../kube/env/index.js";
import { repoRoot } from "../../../paths.js";
import { describeKube, useKubeEnv } from "../../support/kube-env.js";

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describeKube("kube env (real kube-apiserver + etcd)", () => {
  const env = useKubeEnv();

  test("serves Kubernetes 1.33 on 127.0.0.1 to an admin in system:masters, RBAC on", async () => {
    const { client, server, version } = env();
    expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(version).toMatch(/^v1\.33\.\d+$/);
    const review = (await client.request({
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    })) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(review.status.userInfo.username).toBe("admin");
    expect(review.status.userInfo.groups).toContain("system:masters");
    // RBAC decides for everyone else: an unbound service account may not list secrets.
    const access = (await client.request({
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user: "system:serviceaccount:default:nobody", resourceAttributes: { verb: "list", resource: "secrets" } },
      },
    })) as { status: { allowed: boolean } };
    expect(access.status.allowed).toBe(false);
  });

  test("admin kubeconfig is mode 0600 and works on its own", async () => {
    const { kubeconfigPath } = env();
    expect(statSync(kubeconfigPath).mode & 0o777).toBe(0o600);
    const client = clientFromKubeconfig(kubeconfigPath);
    expect((await client.get({ apiVersion: "v1", kind: "Namespace", name: "default" }))?.metadata.name).toBe("default");
  });

  test("every product CRD is Established", async () => {
    const { client } = env();
    const names = productCrds().map((s) => s.crd.metadata.name);
    const { items } = await client.list("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    const established = items.filter(conditionIs("Established")).map((crd) => crd.metadata.name);
    expect(established.sort()).toEqual([...names].sort());
  });

  test("strict server-side apply refuses an unknown field instead of pruning it", async () => {
    const { client } = env();
    const configMap: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "strict", namespace: "default" }, data: { a: "1" } };
    await client.apply(configMap, { fieldManager: "test" });
    const bad = { ...configMap, spec: { surprise: true } };
    const error = await client.apply(bad, { fieldManager: "test" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).message).toMatch(/spec/);
    // The same object on a CRD with a schema: unknown spec fields are refused too.
    const pool = {
      apiVersion: "ipam.cluster.x-k8s.io/v1alpha2",
      kind: "InClusterIPPool",
      metadata: { name: "p", namespace: "default" },
      spec: { addresses: ["10.0.0.10-10.0.0.20"], prefix: 24, gateway: "10.0.0.1", bogus: 1 },
    };
    const crdError = await client.apply(pool, { fieldManager: "test" }).catch((e: unknown) => e);
    expect((crdError as KubeApiError).message).toMatch(/bogus/);
  });

  test("waitFor sees a condition written through the status subresource (watch, not poll)", async () => {
    const { client } = env();
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "wait-test" } }, { fieldManager: "test" });
    const hr: KubeObject = {
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: { name: "demo", namespace: "wait-test" },
      spec: { interval: "5m", chart: { spec: { chart: "demo", sourceRef: { kind: "HelmRepository", name: "r" } } } },
    };
    await client.apply(hr, { fieldManager: "test" });
    const ref = { apiVersion: hr.apiVersion, kind: hr.kind, name: "demo", namespace: "wait-test" };
    const seen: string[] = [];
    let listed: () => void = () => undefined;
    const firstSeen = new Promise<void>((resolve) => (listed = resolve));
    const waiting = waitFor(client, [ref], conditionIs("Ready"), {
      // A watch renewed only after 60 s, a deadline of 30 s: a missed event times out.
      timeoutMs: 30_000,
      watchSeconds: 60,
      onProgress: (_ref, object, done) => {
        seen.push(`${describeCondition(object, "Ready")}:${done}`);
        listed();
      },
    });
    // Written once the wait has listed the object without the condition (otherwise the
    // list itself may already carry it): from then on only the watch can see the change.
    await Promise.race([firstSeen, waiting]);
    await client.apply(
      {
        ...hr,
        status: { conditions: [{ type: "Ready", status: "True", reason: "InstallSucceeded", message: "ok", lastTransitionTime: new Date().toISOString() }] },
      },
      { fieldManager: "test-status", subresource: "status" },
    );
    const result = await waiting;
    expect(seen[0]).toBe("no Ready condition:false");
    expect(seen.at(-1)).toBe("Ready=True (InstallSucceeded: ok):true");
    expect(conditionIs("Ready")(result.values().next().value)).toBe(true);
  });

  test("waitFor times out with the names and states of what is not ready", async () => {
    const { client } = env();
    const missing = { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name: "absent", namespace: "wait-test" };
    const error = await waitFor(client, [missing], conditionIs("Ready"), {
      timeoutMs: 1_500,
      describe: (o) => describeCondition(o, "Ready"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).pending).toEqual(["HelmRelease wait-test/absent"]);
    expect((error as Error).message).toContain("HelmRelease wait-test/absent (not found)");
  });
});

describeKube("kube env cleanup", () => {
  test("killing the starting process with SIGKILL still stops both servers and removes the temp folder", async () => {
    const script = join(repoRoot, "src/tests/support/kube-env-child.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    const info = await new Promise<{ dir: string; groups: number[] }>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) resolve(JSON.parse(line) as { dir: string; groups: number[] });
      });
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    expect(existsSync(info.dir)).toBe(true);
    expect(info.groups.every(groupAlive)).toBe(true);
    child.kill("SIGKILL");
    const deadline = Date.now() + 30_000;
    while ((info.groups.some(groupAlive) || existsSync(info.dir)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(info.groups.filter(groupAlive)).toEqual([]);
    expect(existsSync(info.dir)).toBe(false);
  });

  test("`npm run kube:up` writes a working kubeconfig and cleans everything up on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-up-test-"));
    const kubeconfig = join(dir, "kubeconfig");
    try {
      const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "scripts/kube-up.ts"), "--kubeconfig", kubeconfig], {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (c: Buffer) => (output += c.toString()));
      child.stderr.on("data", (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const deadline = Date.now() + 150_000;
      while (!output.includes("running;") && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(output).toContain("running;");
      expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
      const client = clientFromKubeconfig(kubeconfig);
      const crd = await client.get({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: "helmreleases.helm.toolkit.fluxcd.io" });
      expect(conditionIs("Established")(crd)).toBe(true);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(existsSync(kubeconfig)).toBe(false);
      const envDir = /removed (\S+) and /.exec(output)?.[1];
      expect(envDir).toMatch(/cozy-kube-env-/);
      expect(existsSync(envDir!)).toBe(false);
      // The server is gone: the client built from the old kubeconfig no longer gets an answer.
      await expect(client.version()).rejects.toThrow(/cannot reach the API server/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000);
});
