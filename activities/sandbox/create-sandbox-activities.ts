import { currentActivityControl, whileHeartbeating } from '../activity-control';

import type { CloneRepositoryInput, CloneRepositoryResult } from '../../common/repository-clone';
import type {
  DestroySandboxInput,
  ExecuteInput,
  ExecuteResult,
  ProvisionSandboxInput,
  ProvisionSandboxResult,
} from '../../common/sandbox';
import { cloneRepository } from './clone-repository';
import { destroySandbox } from './destroy-sandbox';
import { execute } from './execute';
import { provisionSandbox } from './provision-sandbox';
import { SANDBOX_HEARTBEAT_INTERVAL_MS } from './sandbox-constants';
import { RunnerPool } from './runner/runner-pool';
import type { SandboxOptions } from './sandbox-options';

/** The sandbox Activities (the "hands"), as the worker registers them and the Workflow proxies them. */
export interface SandboxActivities {
  provisionSandbox: (input: ProvisionSandboxInput) => Promise<ProvisionSandboxResult>;
  execute: (input: ExecuteInput) => Promise<ExecuteResult>;
  destroySandbox: (input: DestroySandboxInput) => Promise<void>;
  cloneRepository: (input: CloneRepositoryInput) => Promise<CloneRepositoryResult>;
}

/**
 * Builds the sandbox Activities around injected dependencies (no environment reads here). They heartbeat while they
 * work and `execute` honours the Activity's cancellation; called outside an Activity they simply run. `execute` keeps
 * one persistent runner per container in `runners` for the life of these Activities (the worker process); the worker
 * passes its own when its warm pool starts runners ahead of sessions.
 */
export function createSandboxActivities(
  options: SandboxOptions,
  runners: RunnerPool = new RunnerPool(options.docker),
): SandboxActivities {
  return {
    provisionSandbox: (input) => {
      const control = currentActivityControl();
      return whileHeartbeating(
        control,
        () => provisionSandbox(options, input, control.signal),
        SANDBOX_HEARTBEAT_INTERVAL_MS,
      );
    },
    execute: (input) => execute(options, input, currentActivityControl(), runners),
    destroySandbox: (input) =>
      whileHeartbeating(currentActivityControl(), () => destroySandbox(options, input), SANDBOX_HEARTBEAT_INTERVAL_MS),
    cloneRepository: (input) => {
      const control = currentActivityControl();
      return whileHeartbeating(
        control,
        () => cloneRepository(options, input, control.signal),
        SANDBOX_HEARTBEAT_INTERVAL_MS,
      );
    },
  };
}
