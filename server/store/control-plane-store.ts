import type { WorkLease } from '../../common/work-queue';
import type { MemoryStoreRepository } from './memory-store-repository';
import type { DreamRepository } from './dream-repository';
import type { SkillRepository } from './skill-repository';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type {
  BetaManagedAgentsEnvironmentVariableAuthResponse,
  BetaManagedAgentsMCPOAuthRefreshResponse,
  BetaManagedAgentsStaticBearerAuthResponse,
} from '@anthropic-ai/sdk/resources/beta/vaults/credentials';

/** What one agent version holds: the agent's fields in the hosted API's resolved shape, stored as JSON. */
export type AgentDefinition = Pick<
  BetaManagedAgentsAgent,
  | 'name'
  | 'description'
  | 'model'
  | 'system'
  | 'tools'
  | 'mcp_servers'
  | 'skills'
  | 'metadata'
  | 'execution_identity'
  | 'multiagent'
>;

/** One version of an agent as stored; versions never change once written. */
export interface StoredAgent {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  version: number;
  /** When the agent (version 1) was created. */
  createdAt: string;
  /** When this version was written, or, for the latest version, when the agent last changed (archive included). */
  updatedAt: string;
  archivedAt: string | null;
  definition: AgentDefinition;
}

/** What an environment holds: its fields in the hosted API's resolved shape, stored as JSON. */
export type EnvironmentDefinition = Pick<BetaEnvironment, 'name' | 'description' | 'metadata' | 'config'> & {
  scope: 'organization';
};

/** An environment as stored. */
export interface StoredEnvironment {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  definition: EnvironmentDefinition;
}

/** A file's metadata as stored; its content is a file on disk named after its id (see `fileContentPath`). */
export interface StoredFile {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  /** The final path component of the uploaded part's filename. */
  filename: string;
  mimeType: string;
  sizeBytes: number;
  createdAt: string;
  downloadable: boolean;
  /** When the content stops being available (RFC 3339), or `null` when it does not expire. */
  expiresAt: string | null;
  /** What the file was created in (a session, for files a session writes); `null` for uploads. */
  scope: { type: 'session'; id: string } | null;
}

/** One page to read: at most `limit` items after `cursor` (a position an earlier page returned), newest first. */
export interface PageRequest {
  limit: number;
  /** A decimal position from `StoredPage.nextCursor`, or `null` for the first page. */
  cursor: string | null;
}

/** A listing of workspace-owned records (agents, environments, files, vaults). */
export interface WorkspaceListRequest extends PageRequest {
  /** Only the records of this workspace; absent for every workspace's (the workspace-scoped store always sets it). */
  workspaceId?: string | undefined;
}

/** A page read from the store; `nextCursor` is `null` on the last page. */
export interface StoredPage<Item> {
  items: Item[];
  nextCursor: string | null;
}

/** Filters of the agent list. */
export interface AgentListRequest extends WorkspaceListRequest {
  includeArchived: boolean;
  /** RFC 3339 times in the store's normal form (`Date.toISOString()`), inclusive. */
  createdAtOrAfter: string | null;
  createdAtOrBefore: string | null;
}

/** Filters of the environment list. */
export interface EnvironmentListRequest extends WorkspaceListRequest {
  includeArchived: boolean;
}

/** Filters of the file list. */
export interface FileListRequest extends WorkspaceListRequest {
  /** Only files scoped to this id (a session id), or `null` for every file. */
  scopeId: string | null;
}

/** A vault as stored: a named set of credentials that sessions reference by id. */
export interface StoredVault {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  displayName: string;
  metadata: Record<string, string>;
}

/** The non-secret part of an `mcp_oauth` credential, as the API shows it (`expires_at` and `refresh` always set). */
export interface McpOAuthAuthView {
  type: 'mcp_oauth';
  mcp_server_url: string;
  /** RFC 3339 in the store's normal form (`Date.toISOString()`), or `null` when the expiry is unknown. */
  expires_at: string | null;
  refresh: Required<BetaManagedAgentsMCPOAuthRefreshResponse> | null;
}

/**
 * The non-secret part of an `environment_variable` credential: its variable name, where its secret may be substituted
 * and into which parts of a request.
 */
export type EnvironmentVariableAuthView = BetaManagedAgentsEnvironmentVariableAuthResponse;

/** The non-secret part of a credential's `auth`: exactly what the API returns. */
export type CredentialAuthView =
  BetaManagedAgentsStaticBearerAuthResponse | McpOAuthAuthView | EnvironmentVariableAuthView;

/**
 * A credential's secrets, each sealed with `sealSecret` under the context `credentialSecretContext(id, field)`: the
 * store never sees them in plaintext.
 */
export interface SealedCredentialSecrets {
  /** The token of `static_bearer` and `mcp_oauth`; the `secret_value` of `environment_variable`. */
  accessToken: string;
  /** `mcp_oauth` with `refresh` only. */
  refreshToken: string | null;
  /** `mcp_oauth` whose token endpoint takes `client_secret_basic` or `client_secret_post` only. */
  clientSecret: string | null;
}

/** A vault credential as stored. */
export interface StoredCredential {
  id: string;
  vaultId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  displayName: string | null;
  metadata: Record<string, string>;
  auth: CredentialAuthView;
  /** `null` once archived: archiving erases the secrets, since nothing can use an archived credential again. */
  secrets: SealedCredentialSecrets | null;
}

/** Filters of the vault list. */
export interface VaultListRequest extends WorkspaceListRequest {
  includeArchived: boolean;
}

/** Filters of a vault's credential list. */
export interface CredentialListRequest extends PageRequest {
  includeArchived: boolean;
}

/** What a deployment holds besides its lifecycle: its fields in the hosted API's shape (see server/deployments/). */
export interface DeploymentDefinition {
  name: string;
  description: string | null;
  /** The agent, pinned to a version. */
  agent: { type: 'agent'; id: string; version: number };
  environment_id: string;
  /** The session resources as given (repositories without a token). */
  resources: Array<Record<string, unknown>>;
  vault_ids: string[];
  initial_events: Array<Record<string, unknown>>;
  metadata: Record<string, string>;
  schedule: { type: 'cron'; expression: string; timezone: string } | null;
  /** Why the deployment is paused, or `null` while it is active. */
  paused_reason: { type: 'manual' } | { type: 'error'; error: { type: string } } | null;
  /** When the latest scheduled run started (manual runs leave it). */
  last_run_at: string | null;
  budget: { type: 'limit'; max_list_cost: { amount: string; currency: 'USD' } } | null;
}

/** A deployment as stored: one row, archived in place. */
export interface StoredDeployment {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  definition: DeploymentDefinition;
}

/** A deployment run as stored: written once, never changed (its table's `archived_at` stays null). */
export interface StoredDeploymentRun {
  id: string;
  /** The workspace of the run's deployment. */
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: null;
  deploymentId: string;
  agent: { type: 'agent'; id: string; version: number };
  sessionId: string | null;
  error: { type: string; message: string } | null;
  triggerContext: { type: 'manual' } | { type: 'schedule'; scheduled_at: string };
}

/** Deployments. */
export type DeploymentRepository = ArchivableRecordRepository<StoredDeployment>;

/** Deployment runs (listed newest first; never archived, updated or deleted by the API). */
export type DeploymentRunRepository = ArchivableRecordRepository<StoredDeploymentRun>;

/** Agents and their versions. */
export interface AgentRepository {
  /** Stores a new agent whose only version is `agent` (version 1). */
  insert(agent: StoredAgent): Promise<void>;
  /** The latest version of the agent, or the given `version`; `null` when either is unknown. */
  get(id: string, version?: number): Promise<StoredAgent | null>;
  /** Latest versions of agents, newest agent first. */
  list(request: AgentListRequest): Promise<StoredPage<StoredAgent>>;
  /** Versions of one agent, newest first; `null` when the agent is unknown. */
  listVersions(id: string, request: PageRequest): Promise<StoredPage<StoredAgent> | null>;
  /**
   * Runs `change` on the latest version and stores what it returns as the next version, atomically: no other write
   * to the agent lands in between, so a version check inside `change` is safe across processes. `change` returns
   * `null` for no change and may throw to refuse. Resolves to the latest version after, or `null` for an unknown id.
   */
  appendVersion(
    id: string,
    change: (latest: StoredAgent) => AgentDefinition | null,
    at: string,
  ): Promise<StoredAgent | null>;
  /** Marks the agent archived at `at` unless it already is; resolves to its latest version, `null` when unknown. */
  archive(id: string, at: string): Promise<StoredAgent | null>;
}

/**
 * Records kept one row each, listed newest first and archived in place: environments and vaults. `update` runs `change`
 * on the stored record and writes what it returns, atomically (`change` may throw to refuse); it resolves to the
 * record after, or `null` for an unknown id. `delete` resolves to whether the record existed.
 */
export interface ArchivableRecordRepository<Stored> {
  insert(record: Stored): Promise<void>;
  get(id: string): Promise<Stored | null>;
  list(request: WorkspaceListRequest & { includeArchived: boolean }): Promise<StoredPage<Stored>>;
  update(id: string, change: (current: Stored) => Stored): Promise<Stored | null>;
  delete(id: string): Promise<boolean>;
}

/** Environments. */
export type EnvironmentRepository = ArchivableRecordRepository<StoredEnvironment>;

/** Files' metadata (their content is on disk, not in the store). */
export interface FileRepository {
  /** Stores a new file's metadata. */
  insert(file: StoredFile): Promise<void>;
  /** The file, or `null`. */
  get(id: string): Promise<StoredFile | null>;
  /** The files among `ids` that exist, newest first; unknown ids are left out. */
  getMany(ids: readonly string[]): Promise<StoredFile[]>;
  /** Files, newest first. */
  list(request: FileListRequest): Promise<StoredPage<StoredFile>>;
  /** Removes the file's metadata; resolves to whether it existed. */
  delete(id: string): Promise<boolean>;
}

/** Vaults (their credentials are in `CredentialRepository`); deleting a vault deletes its credentials. */
export type VaultRepository = ArchivableRecordRepository<StoredVault>;

/**
 * What inserting a credential did: stored it, or found no vault, an archived vault, or the MCP server (or, for an
 * `environment_variable` credential, the `secret_name`) already taken by an active credential of the vault.
 */
export type CredentialInsertResult = 'inserted' | 'vault_not_found' | 'vault_archived' | 'mcp_server_taken';

/** Vault credentials; each call names the vault, so a credential id under another vault is unknown. */
export interface CredentialRepository {
  /**
   * Stores a new credential, atomically with the checks that its vault exists and is not archived and that no other
   * active credential of the vault is for the same MCP server (`mcpServerUrlKey`).
   */
  insert(credential: StoredCredential): Promise<CredentialInsertResult>;
  /** The credential, or `null` when the vault holds no such credential. */
  get(vaultId: string, id: string): Promise<StoredCredential | null>;
  /** The vault's credentials, newest first. */
  list(vaultId: string, request: CredentialListRequest): Promise<StoredPage<StoredCredential>>;
  /**
   * Runs `change` on the stored credential (with its vault) and writes what it returns, atomically (`change` may
   * throw to refuse). Resolves to the credential after, or `null` when the vault holds no such credential.
   */
  update(
    vaultId: string,
    id: string,
    change: (current: StoredCredential, vault: StoredVault) => StoredCredential,
  ): Promise<StoredCredential | null>;
  /** Removes the credential; resolves to whether the vault held it. */
  delete(vaultId: string, id: string): Promise<boolean>;
}

/**
 * The control-plane store: the one interface through which the server reads and writes agents, agent versions,
 * environments, files' metadata, API keys, vaults and their credentials (secrets sealed). Session state is not here:
 * it lives in Temporal. The interface is asynchronous so that a networked database can stand in for the embedded SQLite default.
 */
export interface ControlPlaneStore {
  readonly agents: AgentRepository;
  readonly environments: EnvironmentRepository;
  readonly files: FileRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly workspaces: WorkspaceRepository;
  readonly vaults: VaultRepository;
  readonly credentials: CredentialRepository;
  readonly repositoryTokens: RepositoryTokenRepository;
  readonly work: WorkRepository;
  /** Memory stores, their memories and the memories' versions. */
  readonly memoryStores: MemoryStoreRepository;
  /** Custom skills and their versions (the versions' files are in the blob store). */
  readonly skills: SkillRepository;
  /** Deployments (an agent bound to what runs it, with an optional schedule). */
  readonly deployments: DeploymentRepository;
  /** The runs of deployments: what each fire created, or why it could not. */
  readonly deploymentRuns: DeploymentRunRepository;
  /** Dreams: jobs that reorganise a memory store through a session (see server/dreams/). */
  readonly dreams: DreamRepository;
  /** Closes the database; the store is unusable after. */
  close(): Promise<void>;
}

/**
 * The tokens of sessions' `github_repository` resources, each sealed with `sealSecret` under
 * `repositoryTokenContext(sessionId, resourceId)`: the store never sees one in plaintext, and the session's Workflow
 * never sees one at all (the worker's clone Activity reads this table).
 */
export interface RepositoryTokenRepository {
  /** Stores the sealed token of a resource, replacing the one it had (a rotation). */
  put(sessionId: string, resourceId: string, sealedToken: string, at: string): Promise<void>;
  /** Removes a resource's token; resolves to whether it had one. */
  delete(sessionId: string, resourceId: string): Promise<boolean>;
  /** Removes every token of a session (it was deleted); resolves to how many there were. */
  deleteSession(sessionId: string): Promise<number>;
}

/** The lifecycle of an API key, as the hosted Admin API has it: `inactive` can be made active again, `archived` not. */
export type ApiKeyStatus = 'active' | 'inactive' | 'archived';

/** An API key as the store keeps it: its SHA-256, never the key itself. */
export interface StoredApiKey {
  id: string;
  /** The workspace the key acts in: it reads and writes that workspace's resources and sessions only. */
  workspaceId: string;
  keySha256: string;
  name: string;
  createdAt: string;
  /** When the key was archived (revoked), or `null`. */
  revokedAt: string | null;
  /** Set for an environment key: it serves that self-hosted environment's work queue and sessions, nothing else. */
  environmentId: string | null;
  /** Whether the key may use the Admin API (`/v1/organizations/…`): manage workspaces and keys. */
  admin: boolean;
  /** Only an `active` key authenticates. */
  status: ApiKeyStatus;
}

/** A key to add: active, and not admin unless `admin` says so. */
export type NewApiKey = Omit<StoredApiKey, 'admin' | 'status'> & { admin?: boolean };

/** What an update of a key changes: its name, its status, or both. */
export interface ApiKeyChanges {
  name?: string | undefined;
  status?: ApiKeyStatus | undefined;
}

/** A workspace: what API keys act in and resources belong to. */
export interface StoredWorkspace {
  /** `wrkspc_…`; the default workspace's is `DEFAULT_WORKSPACE_ID`. */
  id: string;
  /** Unique; what `keel keys create --workspace` names. */
  name: string;
  createdAt: string;
  /** When the workspace was archived (its keys with it), or `null`. */
  archivedAt: string | null;
}

/** Workspaces (the migration that adds them creates the default one). */
export interface WorkspaceRepository {
  /** Adds a workspace unless one of that name exists; resolves to the workspace of that name either way. */
  ensure(workspace: Omit<StoredWorkspace, 'archivedAt'>): Promise<StoredWorkspace>;
  /** The workspace of that id, or `null`. */
  get(id: string): Promise<StoredWorkspace | null>;
  /** The workspace of that name, or `null`. */
  findByName(name: string): Promise<StoredWorkspace | null>;
  /** Every workspace, oldest first. */
  list(): Promise<StoredWorkspace[]>;
  /** Renames a workspace (the caller checks the name is free); `null` when there is no such workspace. */
  rename(id: string, name: string): Promise<StoredWorkspace | null>;
  /**
   * Archives a workspace and every key of it (status `archived`), in one transaction; an archived workspace stays as
   * it is. `null` when there is no such workspace.
   */
  archive(id: string, at: string): Promise<StoredWorkspace | null>;
}

/** The API keys clients may send, besides the one from configuration. */
export interface ApiKeyRepository {
  /** Adds a key; a key whose hash is already stored is kept as it is. */
  insert(key: NewApiKey): Promise<void>;
  /** The active key with this hash, if any. */
  findActive(keySha256: string): Promise<StoredApiKey | null>;
  /** The key of that id, whatever its status, or `null`. */
  get(id: string): Promise<StoredApiKey | null>;
  /** Changes a key's name and status (archiving sets `revokedAt` to `at`); `null` when there is no such key. */
  update(id: string, changes: ApiKeyChanges, at: string): Promise<StoredApiKey | null>;
  /** Archives a key by id; `false` when there is no such key or it is archived already. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Every key, oldest first. */
  list(): Promise<StoredApiKey[]>;
}

/** A work item of a self-hosted environment's queue, as stored (see common/work-queue.ts for the rules). */
export interface StoredWorkItem extends WorkLease {
  id: string;
  environmentId: string;
  sessionId: string;
  createdAt: string;
  /** When a poll last handed the item out (an item not acknowledged soon after is handed out again). */
  deliveredAt: string | null;
  workerId: string | null;
  startedAt: string | null;
  /** The exact text the last heartbeat answered, which the next one must echo. */
  lastHeartbeat: string | null;
  ttlSeconds: number;
  stopRequestedAt: string | null;
  stoppedAt: string | null;
  metadata: Record<string, string>;
}

/**
 * The work queues of self-hosted environments. The worker's `requestSelfHostedWork` Activity queues items (in the
 * same table); the server delivers, leases and stops them. Every change is a function of the current item, applied
 * in one write transaction, so concurrent polls and heartbeats never both win.
 */
export interface WorkRepository {
  /** Hands out the oldest queued item not handed out since `redeliverBefore`, marking it delivered to `workerId`. */
  deliverNext(
    environmentId: string,
    workerId: string | null,
    at: string,
    redeliverBefore: string,
  ): Promise<StoredWorkItem | null>;
  /** One item of the environment, or `null`. */
  find(environmentId: string, id: string): Promise<StoredWorkItem | null>;
  /**
   * Applies `change` to the item in one transaction and stores what it returns (`null`: no change); resolves to the
   * item after, and what `change` said, or `null` when there is no such item.
   */
  change<Outcome>(
    environmentId: string,
    id: string,
    change: (current: StoredWorkItem) => { item: StoredWorkItem | null; outcome: Outcome },
  ): Promise<{ item: StoredWorkItem; outcome: Outcome } | null>;
  /** The environment's items, oldest first, from after `cursor` (a sequence number). */
  list(environmentId: string, page: PageRequest): Promise<StoredPage<StoredWorkItem>>;
  /** Counts of the environment's queue: queued and never handed out, handed out but not acknowledged, and the oldest. */
  stats(environmentId: string): Promise<{ depth: number; pending: number; oldestQueuedAt: string | null }>;
}
