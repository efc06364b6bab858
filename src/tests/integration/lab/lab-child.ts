/**
 * Labs in their own process, for tests that measure the lab's memory or must see it die: takes
 * `{"schemes": ["http", "https"], "limits": {...}}` as its one argument (default: one plain HTTP
 * lab, default limits), prints each lab's URL, CA and tokens as one JSON line, then answers each
 * line on stdin with the process's peak and current RSS (bytes) as one JSON line. Ends when stdin closes.
 */
import { createInterface } from "node:readline";
import { startLab, type LabLimits } from "../../../lab/index.js";

const options = JSON.parse(process.argv[2] ?? "{}") as { schemes?: Array<"http" | "https">; limits?: Partial<LabLimits> };
const labs = await Promise.all(
  (options.schemes ?? ["http"]).map((scheme) => startLab({ http: scheme === "http", ...(options.limits ? { limits: options.limits } : {}) })),
);
const memory = (): { peakRss: number; rss: number } => ({
  // maxRSS is in KiB (getrusage): the high-water mark since the process started.
  peakRss: process.resourceUsage().maxRSS * 1024,
  rss: process.memoryUsage.rss(),
});
const described = labs.map((lab) => ({ url: lab.url, caPem: lab.caPem, tokens: lab.tokens }));
process.stdout.write(JSON.stringify({ labs: described, ...memory() }) + "\n");
const lines = createInterface({ input: process.stdin });
lines.on("line", () => process.stdout.write(JSON.stringify(memory()) + "\n"));
lines.on("close", () => void Promise.all(labs.map((lab) => lab.stop())).then(() => process.exit(0)));
