import { ApiError } from './api-error';
import type { ControlPlaneStore } from './store/control-plane-store';

/** Whether a record of that id exists in another workspace than the request's (`false` for an unknown id). */
export type ForeignCheck = (id: string, workspaceId: string) => Promise<boolean>;

/** The 404 a route answers for a resource of another workspace: the same as for an id that never existed. */
const NOT_FOUND_MESSAGES: Readonly<Record<string, (id: string) => string>> = {
  agentId: (id) => `No agent ${id}.`,
  environmentId: (id) => `No environment ${id}.`,
  vaultId: (id) => `No vault ${id}.`,
  fileId: (id) => `No file ${id}.`,
  sessionId: (id) => `No session ${id}.`,
  memoryStoreId: (id) => `No memory store ${id}.`,
  skillId: (id) => `No skill ${id}.`,
};

/**
 * The checks of the route parameters that name a workspace-owned resource, by parameter name, over the unscoped
 * store (and, for sessions, `sessionIsForeign`). Nested ids (a vault's credential, a session's resource, an
 * environment's work item) are reached through their parent, which these checks cover.
 */
export function workspaceParameterChecks(
  store: ControlPlaneStore,
  sessionIsForeign: ForeignCheck,
): Record<string, ForeignCheck> {
  const foreign = (record: { workspaceId: string } | null, workspaceId: string): boolean =>
    record !== null && record.workspaceId !== workspaceId;
  return {
    agentId: async (id, workspaceId) => foreign(await store.agents.get(id), workspaceId),
    environmentId: async (id, workspaceId) => foreign(await store.environments.get(id), workspaceId),
    vaultId: async (id, workspaceId) => foreign(await store.vaults.get(id), workspaceId),
    fileId: async (id, workspaceId) => foreign(await store.files.get(id), workspaceId),
    sessionId: sessionIsForeign,
    memoryStoreId: async (id, workspaceId) => foreign(await store.memoryStores.getStore(id), workspaceId),
    skillId: async (id, workspaceId) => foreign(await store.skills.getSkill(id), workspaceId),
    deploymentId: async (id, workspaceId) => foreign(await store.deployments.get(id), workspaceId),
    deploymentRunId: async (id, workspaceId) => foreign(await store.deploymentRuns.get(id), workspaceId),
  };
}

/**
 * Answers 404 (in the Anthropic error shape) before a route runs when one of its path parameters names a resource of
 * another workspace, so every route, whatever it checks first (the kind of key, say), treats it as unknown. Unknown
 * and malformed ids pass: the route answers them as it always did. The workspace-scoped store and the session
 * service refuse such ids too; this makes the answer uniform and covers routes added later by parameter name.
 */
export async function requireOwnWorkspaceParameters(
  parameters: unknown,
  workspaceId: string,
  checks: Record<string, ForeignCheck>,
): Promise<void> {
  if (typeof parameters !== 'object' || parameters === null) return;
  for (const [name, value] of Object.entries(parameters)) {
    const check = checks[name];
    if (check === undefined || typeof value !== 'string') continue;
    if (await check(value, workspaceId)) {
      throw new ApiError('not_found_error', NOT_FOUND_MESSAGES[name]?.(value) ?? `No resource ${value}.`);
    }
  }
}
