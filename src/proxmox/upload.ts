/**
 * multipart/form-data for `POST /nodes/{node}/storage/{storage}/upload`. PVE reads the form
 * fields before the file part, so `content` (and the checksum) come first and the file last,
 * in a part named `filename` whose file name is the target name.
 */
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { ProxmoxConfigError } from "./errors.js";
import type { MultipartBody } from "./http.js";
import type { UploadInput } from "./types.js";

const uploadContents = new Set(["iso", "vztmpl", "import"]);

function quote(value: string): string {
  return value.replace(/[\r\n]/g, " ").replace(/(["\\])/g, "\\$1");
}

/** Builds the body; `boundary` is random unless given (tests). Throws naming a bad field. */
export function buildUploadBody(input: UploadInput, boundary = `----cozy-proxmox-${randomBytes(12).toString("hex")}`): MultipartBody {
  if (!uploadContents.has(input.content)) {
    throw new ProxmoxConfigError("upload.content", `'${input.content}' is not one of iso, vztmpl, import`);
  }
  if (!input.filename || /[/\\]/.test(input.filename)) {
    throw new ProxmoxConfigError("upload.filename", `'${input.filename}' must be a plain file name`);
  }
  if ((input.data === undefined) === (input.path === undefined)) {
    throw new ProxmoxConfigError("upload", "give exactly one of data and path");
  }
  const fields: [string, string][] = [["content", input.content]];
  if (input.checksum !== undefined) fields.push(["checksum", input.checksum]);
  if (input.checksumAlgorithm !== undefined) fields.push(["checksum-algorithm", input.checksumAlgorithm]);

  let head = "";
  for (const [name, value] of fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="filename"; filename="${quote(input.filename)}"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const headBytes = Buffer.from(head, "utf8");
  const tailBytes = Buffer.from(tail, "utf8");

  let fileLength: number;
  let filePart: Uint8Array | { readonly file: string };
  if (input.data !== undefined) {
    fileLength = input.data.byteLength;
    filePart = input.data;
  } else {
    try {
      fileLength = statSync(input.path!).size;
    } catch (error) {
      throw Object.assign(new ProxmoxConfigError("upload.path", `cannot read '${input.path}': ${(error as Error).message}`), { cause: error });
    }
    filePart = { file: input.path! };
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: headBytes.length + fileLength + tailBytes.length,
    parts: [headBytes, filePart, tailBytes],
  };
}
