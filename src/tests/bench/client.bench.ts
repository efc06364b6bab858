/**
 * Per-call overhead of the Proxmox client against the lab on loopback: the same GET done
 * by the client and by a bare request (global fetch on plain HTTP; node:https with the same
 * keep-alive and CA on HTTPS), sequentially, so the difference is what the client adds
 * (validation, envelope, error mapping, retry bookkeeping, logging hook).
 * `scripts/bench.ts` imports this module and calls `run()`.
 */
import https from "node:https";
import { startLab, type LabHandle } from "../../lab/index.js";
import { createProxmoxClient, type HttpProxmoxApi } from "../../proxmox/index.js";

const WARMUP = 50;
const REQUESTS = 400;
const PATH = "/version";

type Row = Record<string, string | number>;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Times `n` sequential calls of each, alternating baseline and client call by call so that
 * load from other processes hits both alike. Returns per-call microseconds, sorted.
 */
async function timePair(n: number, base: () => Promise<unknown>, client: () => Promise<unknown>): Promise<[number[], number[]]> {
  for (let i = 0; i < WARMUP; i++) {
    await base();
    await client();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await base();
    a.push((performance.now() - t0) * 1000);
    t0 = performance.now();
    await client();
    b.push((performance.now() - t0) * 1000);
  }
  return [a.sort((x, y) => x - y), b.sort((x, y) => x - y)];
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function row(transport: string, baseline: string, base: number[], client: number[]): Row {
  const r = (x: number): number => Math.round(x);
  return {
    bench: "proxmox client overhead per call",
    case: `GET ${PATH} over ${transport}`,
    baseline,
    requests: client.length,
    baseline_p50_us: r(percentile(base, 50)),
    client_p50_us: r(percentile(client, 50)),
    overhead_p50_us: r(percentile(client, 50) - percentile(base, 50)),
    baseline_mean_us: r(mean(base)),
    client_mean_us: r(mean(client)),
    overhead_mean_us: r(mean(client) - mean(base)),
    client_p95_us: r(percentile(client, 95)),
  };
}

function clientFor(lab: LabHandle): HttpProxmoxApi {
  return createProxmoxClient({
    url: lab.url,
    tokenId: lab.tokens.admin.id,
    secret: lab.tokens.admin.secret,
    ...(lab.caPem ? { tls: { caPem: lab.caPem } } : {}),
    maxSockets: 1,
  });
}

async function overHttp(): Promise<Row> {
  const lab = await startLab({ http: true });
  const client = clientFor(lab);
  try {
    const headers = { Authorization: `PVEAPIToken=${lab.tokens.admin.id}=${lab.tokens.admin.secret}`, Accept: "application/json" };
    const [raw, viaClient] = await timePair(
      REQUESTS,
      async () => {
        const res = await fetch(`${lab.url}/api2/json${PATH}`, { headers });
        return ((await res.json()) as { data: unknown }).data;
      },
      () => client.get(PATH),
    );
    return row("http", "global fetch", raw, viaClient);
  } finally {
    client.close();
    await lab.stop();
  }
}

async function overHttps(): Promise<Row> {
  const lab = await startLab();
  const client = clientFor(lab);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: lab.caPem });
  const url = new URL(lab.url);
  const headers = { Authorization: `PVEAPIToken=${lab.tokens.admin.id}=${lab.tokens.admin.secret}`, Accept: "application/json" };
  try {
    const [raw, viaClient] = await timePair(
      REQUESTS,
      () =>
        new Promise((resolve, reject) => {
          const req = https.request({ host: url.hostname, port: url.port, path: `/api2/json${PATH}`, headers, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve((JSON.parse(Buffer.concat(chunks).toString()) as { data: unknown }).data));
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end();
        }),
      () => client.get(PATH),
    );
    return row("https", "node:https keep-alive", raw, viaClient);
  } finally {
    agent.destroy();
    client.close();
    await lab.stop();
  }
}

export async function run(): Promise<Array<Record<string, string | number>>> {
  return [await overHttp(), await overHttps()];
}
