/**
 * The handler table: schema key ("METHOD /template") → handler. Routes the schema knows but
 * the lab does not implement answer 501 like unknown ones.
 */
import type { Handler } from "./context.js";
import { agentHandlers } from "./handlers/agent.js";
import { clusterHandlers } from "./handlers/cluster.js";
import { nodeHandlers } from "./handlers/nodes.js";
import { permissionHandlers } from "./handlers/permissions.js";
import { poolHandlers } from "./handlers/pools.js";
import { powerHandlers } from "./handlers/power.js";
import { qemuHandlers } from "./handlers/qemu.js";
import { storageHandlers } from "./handlers/storage.js";
import { userHandlers } from "./handlers/users.js";

/** Every implemented endpoint. */
export function labHandlers(): ReadonlyMap<string, Handler> {
  return new Map(
    Object.entries({
      ...clusterHandlers,
      ...nodeHandlers,
      ...storageHandlers,
      ...qemuHandlers,
      ...powerHandlers,
      ...agentHandlers,
      ...permissionHandlers,
      ...poolHandlers,
      ...userHandlers,
    }),
  );
}
