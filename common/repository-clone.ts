import type { SandboxEnvironment, SandboxFileMount } from './sandbox';
import type { RepositoryCheckout } from './session';

/** Input of `cloneRepository`: clone one `github_repository` resource into the session's sandbox. */
export interface CloneRepositoryInput {
  sessionId: string;
  /** The resource id (`sesrsc_…`): the Activity reads the resource's token by it, never from its input. */
  resourceId: string;
  url: string;
  checkout: RepositoryCheckout | null;
  /** Where the clone goes in the container, under `/workspace/`. */
  mountPath: string;
  /** The session's file mounts, so a container started by this call (a replaced one) has them too. */
  files?: SandboxFileMount[];
  /** The session's environment, for the same reason. */
  environment?: SandboxEnvironment;
}

/** The five ways a clone fails, as `session.error` names them. */
export type RepositoryErrorType =
  | 'repository_authentication_error'
  | 'repository_forbidden_error'
  | 'repository_not_found_error'
  | 'repository_checkout_error'
  | 'repository_clone_error';

/** Why a clone failed: its type, and a message without the token. */
export interface RepositoryFailure {
  type: RepositoryErrorType;
  message: string;
}

/**
 * Result of `cloneRepository`. A failure is a result, not a thrown error: the session goes on without the repository
 * and logs `session.error`. `cloned: false` means the clone was already there (a retried or repeated call).
 */
export type CloneRepositoryResult = { ok: true; cloned: boolean } | { ok: false; error: RepositoryFailure };
