import { randomBytes } from 'node:crypto';

import { capOutput } from '../cap-output';
import { cancellationOf } from '../cancellation-of';
import { DEFAULT_MAX_ERROR_BYTES, runInContainer } from '../run-in-container';
import type { RunInContainerRequest, RunInContainerResult } from '../run-in-container';
import { throwIfContainerStopped } from '../throw-if-container-stopped';
import { pythonHelperCommand, TOOL_ERROR_STATUS } from '../tools/python-helper-program';
import type { PythonHelperRequest } from '../tools/python-helper-program';
import { Waits } from '../waits';
import type { RunnerPool } from './runner-pool';
import type { RunnerRecall } from './runner-protocol';
import { wellFormed } from './well-formed';

/** A file tool to run as a function inside the container's persistent runner, falling back to its own process. */
export interface RunFileToolInRunnerRequest extends Omit<RunInContainerRequest, 'argv' | 'stdin'> {
  runners: RunnerPool;
  helper: PythonHelperRequest;
  /**
   * The call's idempotency key (the model's tool-use id), for the tools that change files: an operation already done
   * under it in this container is answered from the runner's record, never applied twice (see `RunnerRecall`).
   */
  idempotencyKey?: string;
}

type Outcome =
  | { kind: 'result'; status: number; data: Buffer; recall?: RunnerRecall }
  | { kind: 'rejected' }
  | { kind: 'ended' }
  | { kind: 'timeout' };

/** What a keyed operation whose runner ended, and that no runner can recall, answers: it is not applied again. */
const INTERRUPTED: RunInContainerResult = {
  exitCode: -1,
  timedOut: false,
  output: '',
  errorOutput: '',
  recall: 'interrupted',
};

/**
 * Runs a file tool's `run(request)` in the container's persistent runner (no interpreter start per call), with the
 * result shaped as the per-call helper's: status 0 with the output, 3 with the tool error, or another status with the
 * internal error on stderr. Without a runner, or when the runner ends before it answers while the container still
 * runs, the tool runs as its own Python process instead; a stopped container raises `ContainerStoppedError`. A
 * cancellation rejects at once (the operation, bounded in size, completes in the runner). With an `idempotencyKey`,
 * an operation whose runner ended under it is never applied again: a new runner answers from the call's record, and
 * without one it is reported `interrupted`.
 */
export async function runFileToolInRunner(
  request: RunFileToolInRunnerRequest,
  recalling = false,
): Promise<RunInContainerResult> {
  const { signal, helper, idempotencyKey } = request;
  signal?.throwIfAborted();
  const fallback = (): Promise<RunInContainerResult> =>
    recalling
      ? Promise.resolve(INTERRUPTED)
      : runInContainer({ ...request, ...pythonHelperCommand(helper), cutNote: helper.cutNote });
  const runner = await request.runners.acquire(request.containerId);
  if (!runner) return fallback();
  const id = randomBytes(8).toString('hex');
  const waits = new Waits();
  const answered = waits.deferred<Outcome>();
  const fields = Object.fromEntries(Object.entries(helper.request).map(([key, value]) => [key, wellFormed(value)]));
  const keyed = idempotencyKey === undefined ? {} : { key: idempotencyKey };
  const sent = runner.send({ id, kind: 'file', op: helper.toolName, fields, ...keyed }, (frame) => {
    if (frame === undefined) answered.resolve({ kind: 'ended' });
    else if (frame.type === 'error') answered.resolve({ kind: 'rejected' });
    else if (frame.type === 'result') {
      const { status, recall } = frame;
      answered.resolve({ kind: 'result', status, data: Buffer.from(frame.dataBase64, 'base64'), recall });
    }
  });
  try {
    const outcome = sent
      ? await Promise.race([
          answered.promise,
          waits.delay(request.timeoutMs).then(() => ({ kind: 'timeout' }) as const),
          waits.abort(signal).then(() => ({ kind: 'aborted' }) as const),
        ])
      : ({ kind: 'rejected' } as const);
    if (outcome.kind === 'aborted') throw cancellationOf(signal);
    if (outcome.kind === 'timeout') return { exitCode: -1, timedOut: true, output: '', errorOutput: '' };
    if (outcome.kind === 'ended') await throwIfContainerStopped(request.docker, request.containerId, waits);
    // A keyed operation may have been applied before its runner ended: ask a new runner what it recorded.
    if (outcome.kind === 'ended' && idempotencyKey !== undefined && !recalling) {
      return await runFileToolInRunner(request, true);
    }
    if (outcome.kind === 'ended' || outcome.kind === 'rejected') return await fallback();
    if (outcome.recall === 'interrupted') return INTERRUPTED;
    const internal = outcome.status !== 0 && outcome.status !== TOOL_ERROR_STATUS;
    return {
      exitCode: outcome.status,
      timedOut: false,
      output: internal ? '' : capOutput(outcome.data, request.maxOutputBytes, 0, helper.cutNote),
      errorOutput: internal ? capOutput(outcome.data, request.maxErrorBytes ?? DEFAULT_MAX_ERROR_BYTES) : '',
      ...(outcome.recall ? { recall: outcome.recall } : {}),
    };
  } finally {
    runner.release(id);
    waits.clear();
  }
}
