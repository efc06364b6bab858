import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { apiPath, buildUploadBody, encodeParams } from "../../../proxmox/index.js";

describe("encodeParams", () => {
  it("follows PVE's form rules", () => {
    const out = encodeParams({ full: true, onboot: false, cores: 4, name: "a b", command: ["ls", "-l"], skip: undefined, nil: null });
    expect(out.toString()).toBe("full=1&onboot=0&cores=4&name=a+b&command=ls&command=-l");
  });
});

describe("apiPath", () => {
  it("encodes each interpolated segment (UPIDs contain ':' and '@')", () => {
    const upid = "UPID:pve1:0001F300:002A3B4C:6790A1C0:qmclone:100:capmox@pve!capi:";
    expect(apiPath`/nodes/${"pve1"}/tasks/${upid}/status`).toBe(
      "/nodes/pve1/tasks/UPID%3Apve1%3A0001F300%3A002A3B4C%3A6790A1C0%3Aqmclone%3A100%3Acapmox%40pve!capi%3A/status",
    );
    expect(apiPath`/nodes/${"a/b"}`).toBe("/nodes/a%2Fb");
  });
});

describe("buildUploadBody", () => {
  const tmp = mkdtempSync(join(tmpdir(), "proxmox-upload-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("puts the fields before the file part and counts the length exactly", async () => {
    const data = Buffer.from("ISO-BYTES");
    const body = buildUploadBody({ content: "iso", filename: "user-data-101.iso", data, checksum: "abc", checksumAlgorithm: "sha256" }, "BOUNDARY");
    expect(body.contentType).toBe("multipart/form-data; boundary=BOUNDARY");
    const joined = Buffer.concat(body.parts.map((p) => (p instanceof Uint8Array ? Buffer.from(p) : Buffer.alloc(0))));
    expect(joined.length).toBe(body.length);
    const text = joined.toString("utf8");
    expect(text.indexOf('name="content"')).toBeLessThan(text.indexOf('name="filename"'));
    expect(text).toContain('name="checksum-algorithm"\r\n\r\nsha256\r\n');
    expect(text).toContain('filename="user-data-101.iso"');
    expect(text.endsWith("\r\n--BOUNDARY--\r\n")).toBe(true);
    // Node's own multipart parser (undici) reads it back.
    const form = await new Request("http://x/", { method: "POST", headers: { "content-type": body.contentType }, body: joined }).formData();
    expect(form.get("content")).toBe("iso");
    const file = form.get("filename") as File;
    expect(file.name).toBe("user-data-101.iso");
    expect(Buffer.from(await file.arrayBuffer()).toString()).toBe("ISO-BYTES");
  });

  it("streams a file by path and counts its size", () => {
    const path = join(tmp, "a.iso");
    writeFileSync(path, Buffer.alloc(1000, 7));
    const body = buildUploadBody({ content: "iso", filename: "a.iso", path }, "B");
    const fixed = body.parts.filter((p): p is Uint8Array => p instanceof Uint8Array).reduce((n, p) => n + p.byteLength, 0);
    expect(body.length).toBe(fixed + 1000);
    expect(body.parts[1]).toEqual({ file: path });
  });

  it("names bad fields", () => {
    expect(() => buildUploadBody({ content: "images" as "iso", filename: "a.iso", data: Buffer.alloc(1) })).toThrow("upload.content: 'images'");
    expect(() => buildUploadBody({ content: "iso", filename: "../a.iso", data: Buffer.alloc(1) })).toThrow("upload.filename: '../a.iso'");
    expect(() => buildUploadBody({ content: "iso", filename: "a.iso" })).toThrow("upload: give exactly one of data and path");
    expect(() => buildUploadBody({ content: "iso", filename: "a.iso", path: join(tmp, "none.iso") })).toThrow("upload.path: cannot read");
  });
});
