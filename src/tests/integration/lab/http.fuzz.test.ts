/**
 * Fuzz of the lab's HTTP layer on loopback (issue 12): random methods, targets, headers,
 * credentials and bodies (honest, lying about their length, chunked, endless, oversized, over
 * TLS or not), a few at once. Whatever comes, the lab answers every request in PVE's format,
 * keeps serving, and its peak memory stays bounded. The lab runs in its own process, so a
 * crash shows as its exit (with its stderr) and its RSS is its own.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzBudget, fuzzTimeout } from "../../support/fuzz.js";
import { startLabProcess, type LabMemory, type LabProcess, type RemoteLab } from "./lab-process.js";
import { rawRequest, type RawAnswer } from "./raw-http.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const limits = { bodyTimeoutMs: 300, headersTimeoutMs: 400 };

let child: LabProcess;
let labs: { http: RemoteLab; https: RemoteLab };
let baseline: LabMemory;

beforeAll(async () => {
  child = await startLabProcess({ schemes: ["http", "https"], limits });
  const [http, https] = child.labs;
  if (!http || !https) throw new Error("the lab process has not both labs");
  labs = { http, https };
  baseline = await child.memory();
});
afterAll(async () => {
  await child?.stop();
});

// ---- what a request is made of --------------------------------------------------------------

const methods = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE") },
  { weight: 2, arbitrary: fc.constantFrom("HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "get", "PROPFIND") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom("G\x01T", "", "GE T") },
);

const apiPaths = fc.constantFrom(
  "/version", "/nodes", "/nodes/pve1/status", "/nodes/pve1/qemu", "/nodes/pve1/qemu/100/config",
  "/nodes/pve1/qemu/100/status/current", "/nodes/pve1/qemu/100/status/start", "/nodes/pve1/storage",
  "/nodes/pve1/storage/local/upload", "/nodes/pve1/storage/local/content", "/cluster/nextid",
  "/cluster/resources", "/cluster/status", "/access/ticket", "/access/permissions", "/nodes/nosuch/qemu",
  "/nodes/pve2/qemu/101/config", "/nosuch",
);
const segments = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/),
  fc.constantFrom("%", "%zz", "%2F", "%00", "..", ".", "{node}", "%E2%82%AC", "%FF", "\u00e9", "a b", "\x7f"),
);
const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%_.+-]{0,40}$/), { nil: undefined }).map((q) => (q === undefined ? "" : `?${q}`));
const targets = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(apiPaths, query).map(([p, q]) => `/api2/json${p}${q}`) },
  { weight: 3, arbitrary: fc.array(segments, { maxLength: 6 }).map((s) => `/api2/json/${s.join("/")}`) },
  { weight: 1, arbitrary: fc.constantFrom("/", "*", "/api2", "/api2/extjs/version", "http://lab/api2/json/version", "/api2/json", "//api2/json/version", "127.0.0.1:22") },
);

type Credentials = "none" | "admin" | "readonly" | "wrong" | "garbage" | "ticket";
const credentials = fc.constantFrom<Credentials>("none", "admin", "admin", "readonly", "wrong", "garbage", "ticket");

const headers = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "Content-Type: application/json", "Content-Type: application/x-www-form-urlencoded",
      "Content-Type: multipart/form-data; boundary=XyZ", "Content-Type: text/plain", "Content-Type: ;;",
      "Expect: 100-continue", "Expect: nonsense", "Connection: close", "Connection: keep-alive",
      "Connection: Upgrade\r\nUpgrade: websocket", "Accept-Encoding: gzip", "CSRFPreventionToken: x",
    ),
  },
  { weight: 2, arbitrary: fc.tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/), fc.stringMatching(/^[ -~]{0,60}$/)).map(([k, v]) => `${k}: ${v}`) },
  { weight: 1, arbitrary: fc.constantFrom("Bad Header", ": no name", "X-Ctl: a\x01b", "Content-Length: -1", "Content-Length: 1x", "Transfer-Encoding: gzip") },
  { weight: 1, arbitrary: fc.integer({ min: 17, max: 40 }).map((k) => `X-Big: ${"b".repeat(k * KiB)}`) },
);

const jsonBody = fc.dictionary(fc.stringMatching(/^[a-z0-9-]{1,10}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 6 })
  .map((o) => Buffer.from(JSON.stringify(o)));
const formBody = fc.array(fc.tuple(fc.stringMatching(/^[a-z0-9-]{1,10}$/), fc.string()), { maxLength: 6 })
  .map((kv) => Buffer.from(new URLSearchParams(kv).toString()));
const multipartBody = fc.tuple(fc.constantFrom("iso", "vztmpl", "images"), fc.stringMatching(/^[a-z0-9.-]{1,16}$/), fc.uint8Array({ maxLength: 512 }))
  .map(([content, name, data]) => Buffer.concat([
    Buffer.from(`--XyZ\r\nContent-Disposition: form-data; name="content"\r\n\r\n${content}\r\n--XyZ\r\nContent-Disposition: form-data; name="filename"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(data),
    Buffer.from("\r\n--XyZ--\r\n"),
  ]));
/** A body: its bytes, or (large ones, so a counterexample stays readable) how many `{` it is. */
type BodySpec = Buffer | { readonly fill: number };
const bodies: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(jsonBody, formBody, multipartBody, fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b))) },
  // Around the limits: 512 KiB exactly and just over, the 600,000 bytes, a few MiB.
  { weight: 1, arbitrary: fc.constantFrom(512 * KiB, 512 * KiB + 1, 600_000, 3 * MiB).map((fill) => ({ fill })) },
);
const bytesOf = (body: BodySpec): Buffer => (Buffer.isBuffer(body) ? body : Buffer.alloc(body.fill, 0x7b));

/** How the body is framed: honestly, with a Content-Length that lies either way, chunked (maybe never ending or malformed). */
type Framing = "none" | "length" | "length-over" | "length-under" | "chunked" | "chunked-endless" | "chunked-malformed" | "both";
const framings = fc.constantFrom<Framing>("none", "length", "length", "length", "length-over", "length-under", "chunked", "chunked-endless", "chunked-malformed", "both");

interface FuzzRequest {
  readonly tls: boolean;
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly host: boolean;
  readonly credentials: Credentials;
  readonly headers: readonly string[];
  readonly framing: Framing;
  readonly body: BodySpec;
  readonly unterminated: boolean;
}

const requests: fc.Arbitrary<FuzzRequest> = fc.record({
  tls: fc.boolean(),
  method: methods,
  target: targets,
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1x"),
  host: fc.boolean(),
  credentials,
  headers: fc.array(headers, { maxLength: 4 }),
  framing: framings,
  body: bodies,
  unterminated: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))).chain((b) => (b ? fc.boolean() : fc.constant(false))),
});

function authHeader(lab: RemoteLab, c: Credentials): string[] {
  const t = c === "readonly" ? lab.tokens.readonly : lab.tokens.admin;
  switch (c) {
    case "none": return [];
    case "admin": case "readonly": return [`Authorization: PVEAPIToken=${t.id}=${t.secret}`];
    case "wrong": return [`Authorization: PVEAPIToken=${t.id}=not-the-secret`];
    case "garbage": return ["Authorization: Basic cm9vdDpwYXNz"];
    case "ticket": return ["Cookie: PVEAuthCookie=PVE:root@pam:00000000::bm90LWEtdGlja2V0"];
  }
}

function chunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from("\r\n")]);
}

/** The bytes on the wire: head lines, and the body framed as `framing` says. */
function wire(lab: RemoteLab, r: FuzzRequest): { head: string; body: Buffer[] } {
  const lines = [`${r.method} ${r.target} ${r.version}`, ...(r.host ? ["Host: lab"] : []), ...authHeader(lab, r.credentials), ...r.headers];
  const all = bytesOf(r.body);
  const half = all.subarray(0, Math.floor(all.length / 2));
  const framed: Record<Framing, () => { extra: string[]; body: Buffer[] }> = {
    none: () => ({ extra: [], body: [] }),
    length: () => ({ extra: [`Content-Length: ${all.length}`], body: [all] }),
    "length-over": () => ({ extra: [`Content-Length: ${all.length + 10}`], body: [all] }),
    "length-under": () => ({ extra: [`Content-Length: ${half.length}`], body: [all] }),
    chunked: () => ({ extra: ["Transfer-Encoding: chunked"], body: [chunk(half), chunk(all.subarray(half.length)), Buffer.from("0\r\n\r\n")] }),
    "chunked-endless": () => ({ extra: ["Transfer-Encoding: chunked"], body: [chunk(half)] }),
    "chunked-malformed": () => ({ extra: ["Transfer-Encoding: chunked"], body: [Buffer.from("zz\r\n"), all] }),
    both: () => ({ extra: [`Content-Length: ${all.length}`, "Transfer-Encoding: chunked"], body: [chunk(all), Buffer.from("0\r\n\r\n")] }),
  };
  const { extra, body } = framed[r.framing]();
  return { head: [...lines, ...extra].join("\r\n"), body: body.filter((b) => b.length > 0) };
}

// ---- what every answer must be --------------------------------------------------------------

/** The reason phrase PVE's status line carries for a message: its first line, in Latin-1. */
const reasonOf = (message: string): string => (message.split("\n")[0] ?? "").replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
const ANSWERS = new Set([200, 400, 401, 403, 408, 417, 431, 500, 501, 503, 506, 595]);
const JS_FAULT = /\b(TypeError|ReferenceError|RangeError)\b|Cannot read properties|is not a function|is not iterable|\n\s+at /;

function checkAnswer(r: FuzzRequest, answer: RawAnswer | undefined): void {
  expect(answer, "the lab answered").toBeDefined();
  if (!answer) return;
  const { status, reason, headers: h, body } = answer;
  expect(ANSWERS, `status ${status} ${reason}`).toContain(status);
  expect(h["server"], "answered by the lab's own code, not Node's defaults").toBe("pve-api-daemon/3.0");
  if (r.method === "HEAD" && status < 400) return;
  if (status === 200) {
    expect(h["content-type"]).toBe("application/json;charset=UTF-8");
    if (r.method !== "HEAD") expect(JSON.parse(body.toString("utf8"))).toHaveProperty("data");
    return;
  }
  expect(h["connection"], "errors close the connection").toBe("close");
  if (status === 401 || status >= 595) {
    expect([body.length, h["content-type"]], "401 and proxy errors: empty body").toEqual([0, undefined]);
    return;
  }
  expect(h["content-type"]).toBe("application/json;charset=UTF-8");
  if (r.method === "HEAD") return;
  const parsed = JSON.parse(body.toString("utf8")) as { data: unknown; message: unknown; errors?: unknown };
  expect(parsed.data).toBeNull();
  expect(typeof parsed.message).toBe("string");
  const message = String(parsed.message);
  expect(message.endsWith("\n")).toBe(true);
  expect(reason).toBe(reasonOf(message.slice(0, -1)));
  expect(message, "no JavaScript fault or stack trace").not.toMatch(JS_FAULT);
}

async function checkAlive(lab: RemoteLab): Promise<void> {
  const exited = child.exited();
  expect(exited, `the lab died: ${exited?.stderr ?? ""}`).toBeUndefined();
  const t = lab.tokens.admin;
  const { answer } = await rawRequest(lab, { head: `GET /api2/json/version HTTP/1.1\r\nHost: lab\r\nAuthorization: PVEAPIToken=${t.id}=${t.secret}` });
  expect(answer?.status, "the lab still answers /version").toBe(200);
}

describe("the lab's HTTP layer under fuzz", () => {
  it(
    "answers every request in PVE's format, keeps serving, and keeps its peak memory within 128 MiB of where it started",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(requests, { minLength: 1, maxLength: 3 }), async (batch) => {
          const exchanges = await Promise.all(
            batch.map(async (r) => {
              const lab = r.tls ? labs.https : labs.http;
              const { head, body } = wire(lab, r);
              return { r, ...(await rawRequest(lab, { head, body, unterminated: r.unterminated, skipInterim: true, timeoutMs: 5_000 })) };
            }),
          );
          for (const { r, answer } of exchanges) checkAnswer(r, answer);
          await Promise.all([checkAlive(labs.http), checkAlive(labs.https)]);
        }),
        fuzzBudget(40),
      );
      const now = await child.memory();
      expect(now.peakRss - baseline.peakRss, "the labs' peak RSS growth").toBeLessThan(128 * MiB);
    },
    fuzzTimeout(60_000),
  );
});
