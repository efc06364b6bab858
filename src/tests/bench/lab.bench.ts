/**
 * The lab's throughput for a GET mix on loopback (what clients poll most: version, nodes,
 * node status, cluster resources, VM status/config, task status, storage list), over a
 * bounded number of requests on keep-alive connections. The load comes from a worker
 * thread so the lab's event loop has the main thread to itself. Target: ≥ 2,000 requests/s.
 */
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { startLab } from "../../lab/index.js";

const REQUESTS = 6000;
const CONCURRENCY = 16;

// Plain JS (no TypeScript loader in the worker): GET the mix, count non-200 answers.
const LOAD = `
const { workerData, parentPort } = require("node:worker_threads");
const http = require("node:http");
const https = require("node:https");
const { url, auth, ca, paths, requests, concurrency } = workerData;
const mod = url.startsWith("https:") ? https : http;
const agent = new mod.Agent({ keepAlive: true, maxSockets: concurrency, ...(ca ? { ca } : {}) });
const get = (path) => new Promise((resolve, reject) => {
  const req = mod.request(url + "/api2/json" + path, { agent, headers: { Authorization: auth } }, (res) => {
    res.resume();
    res.on("end", () => resolve(res.statusCode));
  });
  req.on("error", reject);
  req.end();
});
(async () => {
  for (let i = 0; i < 200; i++) await get(paths[i % paths.length]);
  let next = 0, failures = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const i = next++;
      if ((await get(paths[i % paths.length])) !== 200) failures++;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  parentPort.postMessage({ seconds, failures });
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

async function measure(https: boolean): Promise<Record<string, string | number>> {
  const lab = await startLab({ http: !https, taskDurationMs: 0 });
  try {
    const upid = await fetchTaskUpid(lab.url, lab.caPem, `PVEAPIToken=${lab.tokens.admin.id}=${lab.tokens.admin.secret}`);
    const paths = [
      "/version",
      "/nodes",
      "/nodes/pve1/status",
      "/cluster/resources?type=vm",
      "/cluster/status",
      "/nodes/pve1/qemu/9000/status/current",
      "/nodes/pve1/qemu/9000/config",
      `/nodes/pve1/tasks/${upid}/status`,
      "/nodes/pve1/storage",
      "/cluster/nextid",
    ];
    const elu0 = performance.eventLoopUtilization();
    const result = await new Promise<{ seconds: number; failures: number; error?: string }>((resolve, reject) => {
      const worker = new Worker(LOAD, {
        eval: true,
        workerData: {
          url: lab.url,
          auth: `PVEAPIToken=${lab.tokens.admin.id}=${lab.tokens.admin.secret}`,
          ca: lab.caPem,
          paths,
          requests: REQUESTS,
          concurrency: CONCURRENCY,
        },
      });
      worker.once("message", (m: { seconds: number; failures: number; error?: string }) => {
        void worker.terminate();
        resolve(m);
      });
      worker.once("error", reject);
    });
    if (result.error) throw new Error(`lab bench load failed: ${result.error}`);
    // How busy the lab's event loop was: below 1, the lab was waiting for the load generator.
    const busy = performance.eventLoopUtilization(elu0).utilization;
    return {
      name: `lab GET mix (${https ? "HTTPS" : "HTTP"}, keep-alive)`,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      failures: result.failures,
      seconds: Math.round(result.seconds * 1000) / 1000,
      requestsPerSecond: Math.round(REQUESTS / result.seconds),
      labEventLoopBusy: Math.round(busy * 100) / 100,
      target: ">= 2000 req/s",
    };
  } finally {
    await lab.stop();
  }
}

/** Starts one task so that the mix can poll a real task status. */
async function fetchTaskUpid(url: string, ca: string | undefined, auth: string): Promise<string> {
  const { request } = url.startsWith("https:") ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api2/json/nodes/pve1/qemu/9000/status/stop`, { method: "POST", headers: { Authorization: auth }, ...(ca ? { ca } : {}) }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve((JSON.parse(body) as { data: string }).data));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Bench entry point (scripts/bench.ts calls every src/tests/bench/*.bench.ts's run()). */
export async function run(): Promise<Array<Record<string, string | number>>> {
  return [await measure(false), await measure(true)];
}
