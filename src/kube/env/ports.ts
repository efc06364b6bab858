/** Free TCP ports on 127.0.0.1, for servers started by tests and `kube:up`. */
import { createServer } from "node:net";

/** A port nothing listens on right now (the OS picks it; another process may still race us). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port of a probe listener"));
      });
    });
  });
}
