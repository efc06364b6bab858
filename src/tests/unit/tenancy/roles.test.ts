import { describe, expect, it } from "vitest";
import { ROLES } from "../../../lab/access.js";
import { privilegeRequirements } from "../../../privileges/index.js";
import { builtinRoles, roleForPath } from "../../../tenancy/index.js";

describe("the roles the tenant plan grants", () => {
  it("are PVE 9's built-in roles, privilege for privilege as the lab serves them", () => {
    for (const [role, privs] of Object.entries(builtinRoles)) expect([...privs].sort(), role).toEqual([...(ROLES[role] ?? [])].sort());
  });

  it("cover every privilege stage 1 requires on each path kind, propagating where stage 1 needs it", () => {
    for (const req of privilegeRequirements.filter((r) => r.optional === undefined)) {
      const { role, propagate } = roleForPath[req.path];
      const granted = new Set<string>(builtinRoles[role]);
      expect(req.privileges.filter((p) => !granted.has(p)), `${req.consumer} on ${req.path} by ${role}`).toEqual([]);
      if (req.propagate) expect(propagate, `${req.consumer} on ${req.path}`).toBe(true);
    }
  });
});
