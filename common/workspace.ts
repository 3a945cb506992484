/**
 * The workspace that everything created before workspaces existed belongs to, and that the configured API key
 * (`KEEL_API_KEY`, or the key `keel up` keeps in the data folder) acts in: old setups keep working unchanged.
 */
export const DEFAULT_WORKSPACE_ID = 'wrkspc_default';

/** The name of the default workspace, as `keel keys create --workspace default` and `keel keys list` spell it. */
export const DEFAULT_WORKSPACE_NAME = 'default';

/**
 * The memo key under which a session Workflow records its workspace (set by the server when it starts the Workflow).
 * A session whose memo has none predates workspaces and belongs to the default workspace.
 */
export const WORKSPACE_MEMO_KEY = 'workspace_id';

/** The workspace a session's memo names, the default workspace for a session from before workspaces. */
export function workspaceOfMemo(memo: Record<string, unknown> | undefined): string {
  const value = memo?.[WORKSPACE_MEMO_KEY];
  return typeof value === 'string' ? value : DEFAULT_WORKSPACE_ID;
}
