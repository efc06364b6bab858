/**
 * Test harness for the management environment (src/mgmt): one per test file, with the real
 * controllers and the lab, stopped in afterAll (also when tests fail) and on SIGINT/SIGTERM
 * (controller processes die with their watchdogs when this process goes).
 *
 * Runs wherever the binaries are cached or can be built (Go on PATH); skipped loudly otherwise.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe } from "vitest";
import { installSignalHandlers } from "./kube-env.js";
import type { Scenario } from "../../lab/index.js";
import { defaultConfig, type PlatformConfig } from "../../config/index.js";
import { cachedMgmtBinaries, ensureMgmtBinaries, startMgmtEnv, type MgmtEnv } from "../../mgmt/index.js";
import { createProxmoxClient, type HttpProxmoxApi } from "../../proxmox/index.js";

function availability(): { available: boolean; note: string } {
  const cached = cachedMgmtBinaries();
  if (!("missing" in cached)) return { available: true, note: "cached" };
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.status === 0) return { available: true, note: `${cached.missing}; building it now` };
  return { available: false, note: `${cached.missing}, and there is no Go toolchain to build it. Install Go ≥ 1.26 and run \`npm run kube:binaries\`.` };
}

const tier = availability();
if (!tier.available) {
  const line = "!".repeat(100);
  console.warn(`\n${line}\n!! MANAGEMENT ENVIRONMENT TESTS SKIPPED: ${tier.note}\n${line}\n`);
}

/** `describe` for tests that need the real controllers: skipped (loudly) only where they cannot run. */
export const describeMgmt: typeof describe = tier.available ? describe : (describe.skip as unknown as typeof describe);


export interface UseMgmtEnvOptions {
  /** The lab's scenario. @default the environment's default (capmox timing) */
  readonly scenario?: Scenario;
  /** Also run Flux's source-controller and helm-controller, the app chart's Helm repository and the cozystack-api stand-in. @default false */
  readonly flux?: boolean;
}

/** Starts a management environment before the file's tests and stops it after them. */
export function useMgmtEnv(options: UseMgmtEnvOptions = {}): () => MgmtEnv {
  let env: MgmtEnv | undefined;
  beforeAll(async () => {
    installSignalHandlers();
    const binaries = await ensureMgmtBinaries({ log: (line) => console.log(`[mgmt-env] ${line}`) });
    env = await startMgmtEnv({
      kubeBinaries: binaries.kube,
      controllerBinaries: binaries.controllers,
      ...(options.flux ? { fluxBinaries: binaries.flux } : {}),
      ...(options.scenario ? { scenario: options.scenario } : {}),
    });
  }, 90 * 60 * 1000);
  afterAll(async () => {
    await env?.stop();
    env = undefined;
  }, 120_000);
  return () => {
    if (!env) throw new Error("the management environment is not running (beforeAll failed or has not run)");
    return env;
  };
}

/** A Proxmox client for the environment's lab with the platform token (the one the stages and capmox use); close it after use. */
export function labApi(env: MgmtEnv): HttpProxmoxApi {
  const lab = env.labCredentials;
  return createProxmoxClient({ url: lab.url, tokenId: lab.tokenId, secret: lab.secret, tls: { fingerprint: lab.fingerprint }, timeoutMs: 10_000 });
}

/** The built-in platform description pointed at the environment's lab (its URL, token id and certificate). */
export function labConfig(env: MgmtEnv): PlatformConfig {
  const base = defaultConfig();
  return { ...base, proxmox: { ...base.proxmox, url: env.lab.url, tokenId: env.labCredentials.tokenId, tls: { insecure: false, fingerprint: env.labCredentials.fingerprint } } };
}
