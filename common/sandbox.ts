/** An uploaded file mounted read-only into the session's container (a session resource of type `file`). */
export interface SandboxFileMount {
  fileId: string;
  /** Absolute path in the container. */
  mountPath: string;
}

/** Input of `provisionSandbox`: make sure a running container exists for the session. */
export interface ProvisionSandboxInput {
  sessionId: string;
  /** Files to mount read-only; every container of the session gets the same ones. */
  files?: SandboxFileMount[];
  /** Network and packages; absent means `DEFAULT_SANDBOX_ENVIRONMENT`. */
  environment?: SandboxEnvironment;
  /**
   * The session's vaults (references only): a new container gets a placeholder variable for each of their
   * `environment_variable` credentials, and goes through the egress proxy, which substitutes the secrets.
   */
  vaultIds?: string[];
  /** The session's workspace, whose vaults alone `vaultIds` may name; the default workspace when absent. */
  workspaceId?: string;
}

/** Result of `provisionSandbox`. */
export interface ProvisionSandboxResult {
  containerId: string;
  /** `true` when this call created the container (or claimed a warm one), `false` when a running one was reused. */
  created: boolean;
}

/** Input of `execute`: run one built-in tool in the session's sandbox. */
export interface ExecuteInput {
  sessionId: string;
  /** One of `SANDBOX_TOOL_NAMES`. */
  name: string;
  input: Record<string, unknown>;
  /** The session's file mounts, so a container started by this call (a replaced one) has them too. */
  files?: SandboxFileMount[];
  /** The session's environment, for the same reason. */
  environment?: SandboxEnvironment;
  /** The session's vaults and workspace, for the same reason (see `ProvisionSandboxInput`). */
  vaultIds?: string[];
  workspaceId?: string;
  /**
   * Names the file that keeps the whole output when it is over the cap (the model's `tool_use` id, so a retried call
   * writes the same file): `/workspace/.keel/tool-output/<outputName>.txt`, with every character outside
   * `[A-Za-z0-9_-]` replaced by `_`. Absent (or empty), a random name is used.
   */
  outputName?: string;
}

/**
 * Result of `execute`: the text the model sees and whether it is an error. A dead container, a timeout or a
 * non-zero exit status is reported here (as `isError`), never thrown, so the model can react to it.
 */
export interface ExecuteResult {
  output: string;
  isError: boolean;
}

/** Input of `destroySandbox`: remove the container and, when `removeVolume`, the session's workspace volume. */
export interface DestroySandboxInput {
  sessionId: string;
  removeVolume: boolean;
}

/** Docker labels and names Keel gives to what it creates, so tests and clean-up can find them. */
export const SANDBOX_LABELS = {
  session: 'dev.keel.session',
  /** The Keel deployment (Temporal namespace and address) whose worker made it: orphans are looked for per cluster. */
  cluster: 'dev.keel.cluster',
  /** The worker that made it (its Temporal identity). */
  worker: 'dev.keel.worker',
  /** On a container (and its volume) started ahead of any session by a worker's warm pool (`KEEL_SANDBOX_WARM_POOL`). */
  warm: 'dev.keel.warm',
  /**
   * On a session's workspace volume that stands for another one: the name of the volume that really holds the
   * session's `/workspace` (the volume of the warm container the session claimed, since mounts cannot change).
   */
  workspaceVolume: 'dev.keel.workspace-volume',
} as const;

/** The value of the `cluster` label for a worker of `namespace` on the Temporal service at `address`. */
export function sandboxClusterLabel(namespace: string, address: string): string {
  return `${namespace}@${address}`;
}

/** The container name of a session's sandbox. */
export function sandboxContainerName(sessionId: string): string {
  return `keel-${sessionId}`;
}

/** The named volume that holds a session's `/workspace` across container restarts. */
export function sandboxVolumeName(sessionId: string): string {
  return `keel-${sessionId}-workspace`;
}

/**
 * The named volume a session's container mounts at `/mnt/memory` when the session has memory stores: made afresh with
 * each new container and filled from the stores, so it always starts as the stores are.
 */
export function memoryVolumeName(sessionId: string): string {
  return `keel-${sessionId}-memory`;
}

/**
 * The network a session's sandbox gets, from its environment's `config.networking`. `limited` with no allowed host
 * (the default) means no network at all; with hosts, the sandbox reaches only those, through Keel's egress proxy.
 */
export type SandboxNetworking =
  | { type: 'unrestricted' }
  | { type: 'limited'; allowedHosts: string[]; allowPackageManagers: boolean; allowMcpServers: boolean };

/** Packages installed into the session's sandbox image when it is provisioned (cached per package set). */
export interface SandboxPackages {
  apt: string[];
  pip: string[];
  npm: string[];
}

/** What a session's sandbox is made of: the environment snapshot taken when the session started. */
export interface SandboxEnvironment {
  /** `env_…` id, or `null` when the session names no environment. */
  environmentId: string | null;
  networking: SandboxNetworking;
  packages: SandboxPackages;
}

/** The sandbox of a session without an environment: no network and no extra packages. */
export const DEFAULT_SANDBOX_ENVIRONMENT: SandboxEnvironment = {
  environmentId: null,
  networking: { type: 'limited', allowedHosts: [], allowPackageManagers: false, allowMcpServers: false },
  packages: { apt: [], pip: [], npm: [] },
};
