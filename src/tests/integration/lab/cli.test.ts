/**
 * `npm run lab` as a person runs it: `scripts/lab.ts` in a child process. It prints a URL on
 * loopback, the certificate's fingerprint (which must be the one it serves), tokens that work,
 * export lines; `--http`, `--token/--secret` and `--offline` act; SIGTERM stops it with exit 0;
 * bad flags exit 2 naming the flag and value.
 */
import { connect } from "node:tls";
import { execa, type ResultPromise } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../../../paths.js";
import { createProxmoxClient } from "../../../proxmox/index.js";

const childOptions = { cwd: repoRoot, reject: false, extendEnv: false, env: { PATH: process.env["PATH"] ?? "" }, timeout: 60_000 } as const;

let child: ResultPromise<typeof childOptions> | undefined;

afterEach(async () => {
  child?.kill("SIGKILL");
  await child?.catch(() => undefined);
  child = undefined;
});

/** Starts the lab CLI (node --import tsx: one process, so signals reach it) and waits for its banner. */
async function startCli(args: string[]): Promise<string> {
  const proc = execa(process.execPath, ["--import", "tsx", "scripts/lab.ts", "--port", "0", ...args], childOptions);
  child = proc;
  let out = "";
  proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!out.includes("Ctrl-C stops the lab.")) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`lab did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

const line = (out: string, re: RegExp): string => {
  const m = re.exec(out);
  if (!m?.[1]) throw new Error(`no ${String(re)} in:\n${out}`);
  return m[1];
};

function servedFingerprint(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once("error", reject);
  });
}

describe("npm run lab", () => {
  it("serves HTTPS on loopback with the printed fingerprint and token, and stops on SIGTERM", async () => {
    const out = await startCli([]);
    const url = new URL(line(out, /^export PROXMOX_URL=(\S+)$/m));
    expect(url.protocol).toBe("https:");
    expect(url.hostname).toBe("127.0.0.1");
    expect(out).toContain(`listening on ${url.origin}/api2/json`);
    const fingerprint = line(out, /^export PROXMOX_FINGERPRINT='([0-9A-F:]+)'$/m);
    expect(out).toContain(`SHA-256 fingerprint ${fingerprint}`);
    expect(await servedFingerprint(url)).toBe(fingerprint);
    expect(out).toMatch(/^nodes: pve1, pve2, pve3$/m);
    expect(out).toMatch(/^read-only token: auditor@pve!ro {2}secret \S+$/m);

    const token = line(out, /^export PROXMOX_TOKEN='([^']+)'$/m);
    const secret = line(out, /^export PROXMOX_SECRET='([^']+)'$/m);
    // What the printed export lines are for: a client pinned to the fingerprint, with the token.
    const client = createProxmoxClient({ url: url.origin, tokenId: token, secret, tls: { fingerprint }, retry: { maxAttempts: 1 } });
    try {
      expect(await client.version()).toMatchObject({ release: "9.1" });
    } finally {
      client.close();
    }

    child?.kill("SIGTERM");
    const result = await child!;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("SIGTERM: stopping the lab");
    await expect(servedFingerprint(url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("takes --http, --token/--secret and --offline", async () => {
    const out = await startCli(["--http", "--token", "ci@pve!run", "--secret", "fixed-secret-1", "--offline", "pve2"]);
    const url = line(out, /^export PROXMOX_URL=(\S+)$/m);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain("TLS: off (--http)");
    expect(out).not.toContain("PROXMOX_FINGERPRINT");
    expect(out).toMatch(/^nodes: pve1, pve2 \(offline\), pve3$/m);
    const auth = { Authorization: "PVEAPIToken=ci@pve!run=fixed-secret-1" };
    expect((await fetch(`${url}/api2/json/nodes/pve1/status`, { headers: auth })).status).toBe(200);
    const offline = await fetch(`${url}/api2/json/nodes/pve2/status`, { headers: auth });
    expect([offline.status, offline.statusText]).toEqual([595, "Connection refused"]);
  });

  it("exits 2 naming a bad flag and its value, without listening", async () => {
    for (const [args, message] of [
      [["--port", "abc"], 'lab: --port "abc": expected an integer 0..65535'],
      [["--offline", "nosuch"], 'lab: --offline "nosuch": no such node in the scenario'],
      [["--error-rate", "2"], 'lab: --error-rate "2": expected a number 0..1'],
      [["--secret", "x"], "lab: --secret needs --token"],
    ] as const) {
      const run = await execa(process.execPath, ["--import", "tsx", "scripts/lab.ts", ...args], childOptions);
      expect(run.exitCode, args.join(" ")).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).not.toContain("listening");
    }
  });
});
