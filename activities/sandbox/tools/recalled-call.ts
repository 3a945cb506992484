import type { ExecuteResult } from '../../../common/sandbox';
import type { RunInContainerResult } from '../run-in-container';

/** The built-in tools whose calls carry an idempotency key: those that change the sandbox (`bash`, `write`, `edit`). */
const KEYED_TOOLS: ReadonlySet<string> = new Set(['bash', 'write', 'edit']);

/** Keys stay well under the 255-byte limit of a path component (the runner names its records after them). */
const MAX_KEY_CHARACTERS = 128;

/**
 * The idempotency key of a tool call: the model's tool-use id (`ExecuteInput.outputName`), with every character
 * outside `[A-Za-z0-9_-]` replaced by `_` as the runner requires, for the tools that change the sandbox; `undefined`
 * for the read-only tools (running them twice is harmless) and for a call without an id.
 */
export function idempotencyKeyOf(toolName: string, toolUseId: string | undefined): string | undefined {
  if (!KEYED_TOOLS.has(toolName) || !toolUseId) return undefined;
  return toolUseId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_KEY_CHARACTERS);
}

/**
 * The tool result of a call that started and whose result will never come (its runner, or the worker that ran it,
 * stopped before it ended): an error that says it was not run again, so the model checks its effects rather than
 * assuming it did all or nothing.
 */
export function interruptedCallOutput(toolName: string): string {
  return (
    `${toolName}: interrupted: Keel lost this call while it ran (the worker or the sandbox's runner stopped) and did ` +
    'not run it again, so it may have done part of its work; check its effects before running it again.'
  );
}

/**
 * What a tool returns for a call answered from its record instead of run (see `RunnerRecall`): the interrupted error
 * for `interrupted`, and `undefined` otherwise, so a replayed or waited-for result reads exactly as the first run's
 * (that a worker restarted meanwhile changes nothing the model can act on).
 */
export function recalledCallResult(toolName: string, result: RunInContainerResult): ExecuteResult | undefined {
  return result.recall === 'interrupted' ? { isError: true, output: interruptedCallOutput(toolName) } : undefined;
}

/**
 * What a keyed call heartbeats once it knows its container, so a retry knows where the first attempt ran it: the
 * heartbeat is durable in Temporal, unlike the runner's records, which die with the container.
 */
export interface KeyedCallCheckpoint {
  idempotencyKey: string;
  containerId: string;
}

/**
 * Whether a retried keyed call was sent by an earlier attempt into a container that is gone (the session now runs in
 * `containerId`, a new one): its records died with that container, so no result will ever come, and it must be
 * reported interrupted rather than run again. `false` when there was no earlier attempt of this call, or it ran in
 * this container (whose runner records answer it). The earlier attempt may have died before it started the command:
 * then too it is reported interrupted, as Keel cannot tell, and never running twice is the promise.
 */
export function startedInLostContainer(
  previousHeartbeat: unknown,
  idempotencyKey: string,
  containerId: string,
): boolean {
  if (typeof previousHeartbeat !== 'object' || previousHeartbeat === null) return false;
  const checkpoint = previousHeartbeat as Partial<Record<keyof KeyedCallCheckpoint, unknown>>;
  return checkpoint.idempotencyKey === idempotencyKey && checkpoint.containerId !== containerId;
}
