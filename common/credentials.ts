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

/** An `environment_variable` credential as a sandbox gets it: a variable whose value is a placeholder, not the secret. */
export interface SandboxSecretVariable {
  credentialId: string;
  /** The variable's name (`secret_name`). */
  secretName: string;
  /** The per-credential placeholder the egress proxy swaps for the secret. */
  placeholder: string;
}

/** What the egress proxy may put in place of one placeholder, and where. */
export interface SecretSubstitution {
  placeholder: string;
  /** The secret itself: never logged, put in an event, a result or the sandbox. */
  secret: string;
  /** `null` for `unrestricted` (any host the sandbox may reach); else the credential's `allowed_hosts`. */
  allowedHosts: string[] | null;
  /** Substitute in request header values. */
  header: boolean;
  /** Substitute in the request body. */
  body: boolean;
}

/**
 * Reads `environment_variable` vault credentials for the sandbox (names and placeholders only) and for the egress
 * proxy (the opened secrets, for one request at a time).
 */
export interface EnvironmentSecretResolver {
  /**
   * The variables of the active `environment_variable` credentials of `vaultIds` (of `workspaceId`, the default
   * workspace when absent); for a name held in several vaults, the first vault in order wins.
   */
  sandboxSecretVariables(vaultIds: string[], workspaceId?: string): Promise<SandboxSecretVariable[]>;
  /** The substitutions of those of `credentialIds` still active (an archived or deleted one gives none). */
  secretSubstitutions(credentialIds: string[]): Promise<SecretSubstitution[]>;
}
