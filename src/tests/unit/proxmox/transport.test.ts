/**
 * Transport edge cases that need a peer which is not Proxmox-like at all (a closed port,
 * a server that answers with something other than PVE's JSON). Everything PVE-like is in
 * the integration tests against the lab.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createProxmoxClient, ProxmoxApiError, type ProxmoxLogEvent } from "../../../proxmox/index.js";

const secret = "11111111-2222-4333-8444-555555555555";
const fastRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, jitter: false };
let server: Server | undefined;

afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<string> {
  const url = await listen(() => undefined);
  await new Promise((r) => server!.close(r));
  server = undefined;
  return url;
}

describe("transport", () => {
  it("repeats a write whose connection was refused (it provably never arrived)", async () => {
    const events: ProxmoxLogEvent[] = [];
    const client = createProxmoxClient({ url: await closedPort(), tokenId: "ci@pve!t1", secret, retry: fastRetry, logger: (e) => events.push(e) });
    const error = (await client.cloneVm("pve1", 9000, { newid: 123 }).catch((e: unknown) => e)) as ProxmoxApiError;
    expect(error).toBeInstanceOf(ProxmoxApiError);
    expect(error.kind).toBe("network");
    expect(error.code).toBe("ECONNREFUSED");
    expect(error.requestSent).toBe(false);
    expect(error.attempts).toBe(3);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(2);
    expect(JSON.stringify(events)).not.toContain(secret);
  });

  it("reports a 200 that is not JSON as a protocol error, and reuses keep-alive connections for reads", async () => {
    const sockets = new Set<unknown>();
    const url = await listen((req, res) => {
      sockets.add(req.socket);
      if (req.url === "/api2/json/version") {
        res.writeHead(200, { "Content-Type": "application/json;charset=UTF-8" });
        res.end('{"data":{"version":"9.1.1","release":"9.1","repoid":"abc"}}');
      } else {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<html>login</html>");
      }
    });
    const client = createProxmoxClient({ url, tokenId: "ci@pve!t1", secret, retry: fastRetry });
    for (let i = 0; i < 5; i++) expect((await client.version()).version).toBe("9.1.1");
    expect(sockets.size).toBe(1);
    const error = (await client.get("/nodes").catch((e: unknown) => e)) as ProxmoxApiError;
    expect(error.kind).toBe("protocol");
    expect(error.message).toContain("response is not JSON (<html>login</html>)");
    expect(error.attempts).toBe(1);
    client.close();
  });

  it("sends PVE's token header and form-encoded writes", async () => {
    const seen: { auth?: string; type?: string; body: string }[] = [];
    const url = await listen((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ auth: req.headers.authorization, type: req.headers["content-type"], body });
        res.writeHead(200, { "Content-Type": "application/json;charset=UTF-8" });
        res.end('{"data":"UPID:pve1:00000001:00000001:00000001:qmclone:9000:ci@pve!t1:"}');
      });
    });
    const client = createProxmoxClient({ url, tokenId: "ci@pve!t1", secret });
    await client.cloneVm("pve1", 9000, { newid: 123, full: true, name: "w-0" });
    expect(seen).toEqual([
      { auth: `PVEAPIToken=ci@pve!t1=${secret}`, type: "application/x-www-form-urlencoded", body: "newid=123&full=1&name=w-0" },
    ]);
    client.close();
  });
});
