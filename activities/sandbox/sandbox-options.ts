import type { BlobStore } from '../../common/blob-store';
import type Docker from 'dockerode';

import type { RepositoryTokenReader } from '../../common/credentials';
import type { SessionMemoryRows } from '../../common/memory';
import type { SessionSkillRows } from '../../common/skills';
import type { SandboxNetworks } from './network/sandbox-networks';
import type { WarmPool } from './warm-pool';
import type { WorkspaceDiskOptions } from './workspace-disk';
import type { EnvironmentSecretResolver } from '../../common/credentials';

/** What `cloneRepository` needs besides the sandbox: the tokens, the hosts it may clone from, and where `git` is. */
export interface RepositoryCloneOptions {
  tokens: RepositoryTokenReader;
  /** `host[:port]` entries besides github.com (`KEEL_REPOSITORY_HOSTS`), checked again before each clone. */
  hosts: string[];
  /** The executable search path of `git` and `tar`: the only variable of the worker's environment they get. */
  searchPath: string;
  /** How long a clone may take; `DEFAULT_CLONE_TIMEOUT_MS` (10 minutes) when absent. */
  timeoutMs?: number;
  /** Where clones are made before they are copied into the sandbox; the system's temporary folder when absent. */
  temporaryDir?: string;
}

/** What the sandbox Activities need from the worker: the Docker client, the image and the hardening limits. */
export interface SandboxOptions {
  docker: Docker;
  /** Image of every sandbox container (a tag or an id). */
  image: string;
  /** Memory limit of a container, in bytes; swap is disabled by giving the same value as the swap limit. */
  memoryBytes: number;
  /** CPU limit of a container, in billionths of a CPU (`1e9` is one CPU). */
  nanoCpus: number;
  /** Maximum number of processes (and threads) in a container. */
  pidsLimit: number;
  /** Default and upper bound of a command's timeout; a `bash` call's `timeout_ms` can only shorten it. */
  commandTimeoutMs: number;
  /** Bytes of output a tool returns at most; longer output keeps its head and tail around a cut marker. */
  maxOutputBytes: number;
  /**
   * Bytes of a longer output that are saved in the workspace for the model to read (see `toolOutputPath`); beyond them
   * the file is truncated with a note. Defaults to `DEFAULT_MAX_SAVED_OUTPUT_BYTES` (64 MiB).
   */
  maxSavedOutputBytes?: number;
  /** Keel's data folder, where uploaded files' content lies (mounted read-only into sessions that use them). */
  dataDir: string;
  /**
   * The blob store every server and worker shares (S3), when there is one: an uploaded file this worker has no copy
   * of is fetched from it into `dataDir` before it is mounted (`ensureLocalFileContent`).
   */
  sharedFiles?: BlobStore;
  /**
   * The worker's sandbox networks and egress proxy, for environments that allow the network or list packages; without
   * them only environments with neither can run (the others fail with `SandboxNetworkUnavailable`).
   */
  networks?: SandboxNetworks;
  /**
   * The `environment_variable` vault credentials: a new container of a session with vaults gets a placeholder
   * variable for each (never the secret). Without it vault credentials give the sandbox nothing.
   */
  environmentSecrets?: EnvironmentSecretResolver;
  /** A CA bundle on the Docker host that package builds trust (mounted read-only), for registries behind a private CA. */
  caBundlePath?: string;
  /**
   * The memory stores sessions mount (the control-plane store's rows): copied into each new container of a session
   * that has some, and written back after its write tools run. Without it no memory store is mounted.
   */
  memory?: SessionMemoryRows;
  /**
   * The custom skills sessions mount (the control-plane store's `session_skills` rows) and the blob store that holds
   * their files: each skill version is copied once into `dataDir` and bind-mounted read-only at `/mnt/skills/<name>` in
   * every container of a session that has it. Without it no skill is mounted.
   */
  skills?: { rows: SessionSkillRows; blobs: BlobStore };
  /** Cloning `github_repository` resources; without it every clone fails with `repository_clone_error`. */
  repositories?: RepositoryCloneOptions;
  /**
   * Who owns what this worker creates: containers and volumes are labelled with the cluster (`sandboxClusterLabel`)
   * and the worker, so a worker that starts can remove the orphans of its cluster's ended sessions.
   */
  owner?: { cluster: string; worker: string };
  /**
   * Pre-started containers (`KEEL_SANDBOX_WARM_POOL`): a session whose sandbox is the pool's kind (`warmPoolServes`)
   * claims one at its first provisioning instead of starting a container.
   */
  warmPool?: WarmPool;
  /**
   * The disk quota of every new workspace volume (`KEEL_SANDBOX_DISK_QUOTA`): each is a sparse ext4 image of that size
   * on a loop device (see `createWorkspaceDisk`). Without it a workspace is a plain Docker volume on the host's disk.
   */
  workspaceDisk?: WorkspaceDiskOptions;
}
