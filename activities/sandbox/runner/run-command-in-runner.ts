import { randomBytes } from 'node:crypto';

import { cancellationOf } from '../cancellation-of';
import { ContainerStoppedError } from '../container-stopped-error';
import { killRun } from '../kill-run';
import { OutputCollector } from '../output-collector';
import { outputFileNote } from '../output-file';
import type { OutputFileOutcome } from '../output-file';
import { DEFAULT_MAX_ERROR_BYTES, runInContainer } from '../run-in-container';
import type { RunInContainerRequest, RunInContainerResult } from '../run-in-container';
import { COMMAND_KILL_AFTER_MS } from '../sandbox-constants';
import { throwIfContainerStopped } from '../throw-if-container-stopped';
import { RUNAWAY_LEFTOVER_PROCESSES } from '../tools/resource-note';
import { Waits } from '../waits';
import { wellFormed } from './well-formed';
import type { RunnerPool } from './runner-pool';
import type { RunnerRecall } from './runner-protocol';
import type { RunnerListener, RunnerSession } from './runner-session';

/** A command to run through the container's persistent runner, falling back to a per-call exec. */
export interface RunCommandInRunnerRequest extends RunInContainerRequest {
  runners: RunnerPool;
  /** See `ToolRunRequest.stateFile`. */
  stateFile?: string;
  /** See `ToolRunRequest.shell`. */
  shell?: string[];
  /**
   * The call's idempotency key (the model's tool-use id): a command that already ran under it in this container is
   * answered from the runner's record, never run again (see `RunnerRecall`).
   */
  idempotencyKey?: string;
}

/** How long the runner has to acknowledge a kill before the worker kills the group from a second exec. */
const KILL_ACKNOWLEDGE_MS = 1_000;
/** Slack before the worker stops trusting the runner's own timeout and kills the group itself. */
const BACKSTOP_SLACK_MS = 3_000;
/** How long a killed command's runner may take to report the exit (TERM, then KILL after 2 s). */
const SETTLE_AFTER_KILL_MS = COMMAND_KILL_AFTER_MS + 3_000;

/** How the runner's stderr begins when it could not start a command (`posix_spawn` failed). */
const RUNNER_START_FAILURE = 'keel-runner: failed to run ';
/** How long the trivial command that checks a sandbox after a fork bomb may take. */
const RECOVERY_PROBE_TIMEOUT_MS = 5_000;

/** How one attempt through the runner ended: a result, or the runner lost (it ended, or refused the request). */
type Attempt = { kind: 'result'; result: RunInContainerResult } | { kind: 'runner-lost'; started: boolean };

/** What the runner said last about a command: its exit (and its saved output), or nothing more because it is lost. */
type Finish =
  | {
      kind: 'exit';
      status: number;
      timedOut: boolean;
      outputFileBytes?: number;
      outputFileError?: string;
      leftovers?: number;
      pidsLimitHit?: boolean;
      recall?: RunnerRecall;
    }
  | { kind: 'runner-lost' };

/**
 * Runs one command through the container's persistent runner, with the semantics of `runInContainer` (own process
 * group, timeout with TERM then KILL, capped stdout and stderr, cancellation that kills the group and rejects). When
 * no runner can run, or the runner ends under the command while the container still runs, the command runs through
 * `runInContainer` instead (after the orphaned first attempt, if it started, is killed); a stopped container raises
 * `ContainerStoppedError`. After a fork bomb (or a start the full pids limit refused) it checks that the sandbox runs a
 * trivial command, and stops a sandbox that does not, raising `ContainerStoppedError` (see
 * `stopSandboxUnlessItRecovered`). With an `idempotencyKey`, a command whose runner ended under it is never run
 * again: a new runner answers from the call's record (its result, or `interrupted`), and without one it is reported
 * `interrupted`.
 */
export async function runCommandInRunner(request: RunCommandInRunnerRequest): Promise<RunInContainerResult> {
  request.signal?.throwIfAborted();
  const runner = await request.runners.acquire(request.containerId);
  if (!runner) return runInContainer(request);
  const runId = randomBytes(8).toString('hex');
  const attempt = await attemptInRunner(runner, runId, request);
  if (attempt.kind === 'result') {
    if (mayHaveExhaustedSandbox(attempt.result)) await stopSandboxUnlessItRecovered(runner, request);
    return attempt.result;
  }
  if (attempt.started) {
    const waits = new Waits();
    try {
      await throwIfContainerStopped(request.docker, request.containerId, waits);
    } finally {
      waits.clear();
    }
    // The runner died, the command may live on without its timeout: end it before the command runs again.
    await killRun({ docker: request.docker, containerId: request.containerId, runId }).catch(() => false);
  }
  // Even unseen, its start may have happened: only the runner's record can tell.
  if (request.idempotencyKey !== undefined) return recallAfterLostRunner(request);
  request.signal?.throwIfAborted();
  return runInContainer(request);
}

/**
 * The answer to a keyed command whose runner ended under it: what a new runner recalls of the call (its recorded
 * result, or `interrupted` when it never finished), never a second run.
 */
async function recallAfterLostRunner(request: RunCommandInRunnerRequest): Promise<RunInContainerResult> {
  request.signal?.throwIfAborted();
  const runner = await request.runners.acquire(request.containerId);
  const attempt = runner ? await attemptInRunner(runner, randomBytes(8).toString('hex'), request) : undefined;
  if (attempt?.kind === 'result') return attempt.result;
  return { exitCode: -1, timedOut: false, output: '', errorOutput: '', recall: 'interrupted' };
}

/**
 * Whether a command may have left the sandbox unable to start processes: the pids limit refused a process while it
 * ran, or it left a fork bomb's worth of processes (the runner killed them), or the runner itself could not start it
 * (`failed to run`, exit status 127).
 */
function mayHaveExhaustedSandbox(result: RunInContainerResult): boolean {
  if (result.pidsLimitHit === true || (result.leftoverProcesses ?? 0) >= RUNAWAY_LEFTOVER_PROCESSES) return true;
  return result.exitCode === 127 && result.errorOutput.startsWith(RUNNER_START_FAILURE);
}

/**
 * Checks that the sandbox can still run a trivial command; when it cannot (the pids limit stays full of processes the
 * runner may not kill), kills the container and raises `ContainerStoppedError`, so the call tells the model and the
 * next call gets a new container with the same workspace volume, as for a dead container.
 */
async function stopSandboxUnlessItRecovered(runner: RunnerSession, request: RunCommandInRunnerRequest): Promise<void> {
  const probe = await attemptInRunner(runner, randomBytes(8).toString('hex'), {
    docker: request.docker,
    containerId: request.containerId,
    runners: request.runners,
    argv: ['true'],
    timeoutMs: RECOVERY_PROBE_TIMEOUT_MS,
    maxOutputBytes: 1024,
  });
  if (probe.kind === 'result' && probe.result.exitCode === 0) return;
  await request.docker
    .getContainer(request.containerId)
    .kill()
    .catch(() => undefined);
  throw new ContainerStoppedError(
    'the sandbox could no longer start processes, as its process limit stayed full, so Keel stopped it',
  );
}

async function attemptInRunner(
  runner: RunnerSession,
  runId: string,
  request: RunCommandInRunnerRequest,
): Promise<Attempt> {
  const { signal } = request;
  const output = new OutputCollector(request.maxOutputBytes);
  const errorOutput = new OutputCollector(request.maxErrorBytes ?? DEFAULT_MAX_ERROR_BYTES);
  const waits = new Waits();
  const finished = waits.deferred<Finish>();
  const killAcknowledged = waits.deferred<boolean>();
  let started = false;
  const listener: RunnerListener = (frame) => {
    switch (frame?.type) {
      case 'started':
        started = true;
        return;
      case 'output':
        (frame.stream === 'stderr' ? errorOutput : output).push(Buffer.from(frame.dataBase64, 'base64'));
        return;
      case 'recorded':
        (frame.stream === 'stderr' ? errorOutput : output).pushKept(
          Buffer.from(frame.headBase64, 'base64'),
          Buffer.from(frame.tailBase64, 'base64'),
          frame.totalBytes,
        );
        return;
      case 'exit': {
        const { status, timedOut, outputFileBytes, outputFileError, leftovers, pidsLimitHit, recall } = frame;
        return finished.resolve({
          kind: 'exit',
          status,
          timedOut,
          outputFileBytes,
          outputFileError,
          leftovers,
          pidsLimitHit,
          recall,
        });
      }
      case 'killing':
        return killAcknowledged.resolve(true);
      case undefined:
      case 'error':
        killAcknowledged.resolve(false);
        return finished.resolve({ kind: 'runner-lost' });
      default:
        return;
    }
  };
  const sent = runner.send(
    {
      id: runId,
      kind: 'command',
      argv: request.argv.map(wellFormed),
      ...(request.stdin ? { stdinBase64: Buffer.from(request.stdin, 'utf8').toString('base64') } : {}),
      timeoutMs: request.timeoutMs,
      ...(request.stateFile === undefined ? {} : { stateFile: request.stateFile }),
      ...(request.shell === undefined ? {} : { shell: request.shell.map(wellFormed) }),
      ...(request.outputFile === undefined
        ? {}
        : { outputFile: { ...request.outputFile, afterBytes: request.maxOutputBytes } }),
      ...(request.idempotencyKey === undefined
        ? {}
        : {
            key: request.idempotencyKey,
            keepBytes: request.maxOutputBytes,
            keepErrorBytes: request.maxErrorBytes ?? DEFAULT_MAX_ERROR_BYTES,
          }),
    },
    listener,
  );
  if (!sent) return { kind: 'runner-lost', started: false };
  try {
    const outcome = await Promise.race([
      finished.promise,
      waits
        .delay(request.timeoutMs + COMMAND_KILL_AFTER_MS + BACKSTOP_SLACK_MS)
        .then(() => ({ kind: 'deadline' }) as const),
      waits.abort(signal).then(() => ({ kind: 'aborted' }) as const),
    ]);
    if (outcome.kind === 'exit') return { kind: 'result', result: resultOf(outcome.status, outcome.timedOut, outcome) };
    if (outcome.kind === 'runner-lost') return { kind: 'runner-lost', started };
    // Deadline or cancellation: kill through the runner, or from a second exec if the runner does not answer.
    runner.send({ id: runId, kind: 'kill' });
    const acknowledged = await Promise.race([
      killAcknowledged.promise,
      waits.delay(KILL_ACKNOWLEDGE_MS).then(() => false),
    ]);
    const exited = acknowledged
      ? await Promise.race([finished.promise, waits.delay(SETTLE_AFTER_KILL_MS).then(() => undefined)])
      : undefined;
    if (exited?.kind !== 'exit') {
      await killRun({ docker: request.docker, containerId: request.containerId, runId }).catch(() => false);
    }
    if (outcome.kind === 'aborted') throw cancellationOf(signal);
    if (exited?.kind === 'exit') return { kind: 'result', result: resultOf(exited.status, true, exited) };
    return { kind: 'result', result: resultOf(-1, true) };
  } finally {
    runner.release(runId);
    waits.clear();
  }

  function resultOf(exitCode: number, timedOut: boolean, exit?: Finish): RunInContainerResult {
    const saved = exit ? outputFileOutcome(request, exit, output.totalBytes) : undefined;
    const note = saved ? outputFileNote(saved) : request.cutNote;
    const { leftovers, pidsLimitHit, recall } = exit?.kind === 'exit' ? exit : {};
    return {
      exitCode,
      timedOut,
      output: output.text(note),
      errorOutput: errorOutput.text(),
      ...(leftovers ? { leftoverProcesses: leftovers } : {}),
      ...(pidsLimitHit ? { pidsLimitHit } : {}),
      ...(recall ? { recall } : {}),
    };
  }
}

/** What the runner's `exit` frame says became of the saved output; `undefined` when it saved none. */
function outputFileOutcome(
  request: RunCommandInRunnerRequest,
  exit: Finish,
  totalBytes: number,
): OutputFileOutcome | undefined {
  if (!request.outputFile || exit.kind !== 'exit') return undefined;
  const { path } = request.outputFile;
  if (exit.outputFileError !== undefined) return { kind: 'failed', path, error: exit.outputFileError };
  if (exit.outputFileBytes !== undefined) return { kind: 'saved', path, savedBytes: exit.outputFileBytes, totalBytes };
  return undefined;
}
