/**
 * Resolves vault credentials inside Activities, so Workflows only ever carry vault ids. Implementations read the
 * encrypted store; nothing they return may be logged, put in an event, a result or the sandbox.
 */
export interface CredentialResolver {
  /**
   * The bearer token for an MCP server: from the first of `vaultIds` (in order) holding an active credential whose
   * `mcp_server_url` matches `mcpServerUrl`. An `mcp_oauth` access token that has expired is refreshed first (and
   * the new tokens stored). `null` when no vault holds a credential for the server. Only vaults of `workspaceId` (the
   * session's; the default workspace when absent) count: a vault id of another workspace is as good as unknown.
   */
  mcpBearerToken(vaultIds: string[], mcpServerUrl: string, workspaceId?: string): Promise<string | null>;
}

/**
 * Reads a `github_repository` resource's token inside the clone Activity, so Workflows only ever carry resource ids.
 * What it returns may be given to `git` only, never logged or put in an event, a result or the sandbox.
 */
export interface RepositoryTokenReader {
  /** The resource's token, or `null` when it has none (a public repository). */
  repositoryToken(sessionId: string, resourceId: string): Promise<string | null>;
}
