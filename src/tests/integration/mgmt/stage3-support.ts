/**
 * What the stage 3 files share: the lab platform, stage 3's input against the management
 * environment, and what the lab holds afterwards.
 */
import type { MgmtEnv } from "../../../mgmt/index.js";
import { labApi, labConfig } from "../../support/mgmt-env.js";
import { resolveTimeouts, runStage, type StageInput, type StageResult } from "../../../stages/index.js";

function stage3Input(env: MgmtEnv, timeouts: Record<string, number> = {}): StageInput & { close(): void } {
  const lab = env.labCredentials;
  const api = labApi(env);
  const config = labConfig(env);
  return {
    config,
    api,
    configuredUrl: lab.url,
    tls: { fingerprint: lab.fingerprint },
    timeouts: resolveTimeouts({ "poll.task": 50, "poll.retry": 50, ...timeouts }),
    secrets: [lab.secret],
    management: { client: env.kube.client, tokenSecret: lab.secret, caPem: lab.caPem },
    close: () => api.close(),
  };
}

export const createdVms = (env: MgmtEnv): string[] =>
  [...env.lab.state.vms.values()].filter((vm) => vm.config["template"] !== "1").map((vm) => `${vm.vmid} ${vm.config["name"] ?? ""}`);
export const isos = (env: MgmtEnv): string[] => env.lab.state.volumes.filter((v) => /user-data-\d+\.iso$/.test(v.volname)).map((v) => `${v.storage}:${v.volname}`);
export const check = (r: StageResult, id: string) => r.checks.find((c) => c.id === id);

export async function stage3(env: MgmtEnv, timeouts?: Record<string, number>): Promise<StageResult> {
  const input = stage3Input(env, timeouts);
  try {
    return await runStage(3, input);
  } finally {
    input.close();
  }
}
