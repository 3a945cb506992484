import { Context } from '@temporalio/activity';

import type {
  DestroySandboxInput,
  ExecuteInput,
  ExecuteResult,
  ProvisionSandboxInput,
  ProvisionSandboxResult,
} from '../../common/sandbox';
import { destroySandbox } from './destroy-sandbox';
import { execute } from './execute';
import type { ExecutionControl } from './execute';
import { provisionSandbox } from './provision-sandbox';
import { RunnerPool } from './runner/runner-pool';
import type { SandboxOptions } from './sandbox-options';
import { withHeartbeat } from './with-heartbeat';

/** The sandbox Activities (the "hands"), as the worker registers them and the Workflow proxies them. */
export interface SandboxActivities {
  provisionSandbox: (input: ProvisionSandboxInput) => Promise<ProvisionSandboxResult>;
  execute: (input: ExecuteInput) => Promise<ExecuteResult>;
  destroySandbox: (input: DestroySandboxInput) => Promise<void>;
}

/**
 * Builds the sandbox Activities around injected dependencies (no environment reads here). They heartbeat while they
 * work and `execute` honours the Activity's cancellation; called outside an Activity they simply run. `execute` keeps
 * one persistent runner per container for the life of these Activities (the worker process).
 */
export function createSandboxActivities(options: SandboxOptions): SandboxActivities {
  const runners = new RunnerPool(options.docker);
  return {
    provisionSandbox: (input) => {
      const control = currentControl();
      return withHeartbeat(control.heartbeat, () => provisionSandbox(options, input, control.signal));
    },
    execute: (input) => execute(options, input, currentControl(), runners),
    destroySandbox: (input) => withHeartbeat(currentControl().heartbeat, () => destroySandbox(options, input)),
  };
}

function currentControl(): ExecutionControl {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return {};
  }
  return { heartbeat: () => context.heartbeat(), signal: context.cancellationSignal };
}
