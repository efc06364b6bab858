/** Tenant isolation on the Proxmox side: the plan (pools, users, tokens, ACLs) and applying it. */
export { applyPlan, type ApplyOptions, type StepResult } from "./apply.js";
export { pveumCommand, tenantPathContext, tenantPlans, type PlanStep, type TenantPlan } from "./plan.js";
export { builtinRoles, roleForPath, type BuiltinRole } from "./roles.js";
export { templateIds } from "./templates.js";
