/**
 * Helper process for the cleanup test: starts an environment, prints its temp folder and
 * process groups as one JSON line, then waits to be killed (the test uses SIGKILL, so no
 * handler of ours can run: the watchdogs must clean up).
 */
import { startKubeEnv } from "../../kube/env/index.js";

const env = await startKubeEnv();
console.log(JSON.stringify({ dir: env.dir, groups: env.processGroups }));
setInterval(() => {}, 1 << 30);
