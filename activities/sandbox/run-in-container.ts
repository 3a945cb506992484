import { randomBytes } from 'node:crypto';

import type Docker from 'dockerode';

import { cancellationOf } from './cancellation-of';
import { killRun } from './kill-run';
import { OutputCollector } from './output-collector';
import { outputFileNote } from './output-file';
import type { OutputFileTarget } from './output-file';
import { OutputFileWriter } from './output-file-writer';
import type { RunnerRecall } from './runner/runner-protocol';
import { COMMAND_KILL_AFTER_MS, SANDBOX_RUN_DIR } from './sandbox-constants';
import { SentinelScanner } from './sentinel-scanner';
import { startExec } from './start-exec';
import { throwIfContainerStopped } from './throw-if-container-stopped';
import { Waits } from './waits';

/** One command to run in a sandbox container, with its limits and the caller's cancellation signal. */
export interface RunInContainerRequest {
  docker: Docker;
  containerId: string;
  argv: string[];
  /** Written to the command's stdin, which is then closed. */
  stdin?: string;
  /** The command is sent TERM after this long, and KILL 2 s later. */
  timeoutMs: number;
  /** Cap of the returned stdout (head and tail kept). */
  maxOutputBytes: number;
  /** Where the whole stdout is saved when it is over `maxOutputBytes`; the cut marker then names the file. */
  outputFile?: OutputFileTarget;
  /** Said in the cut marker when stdout is over `maxOutputBytes` and no `outputFile` names a file. */
  cutNote?: string;
  /** Cap of the returned stderr; 16 KiB by default. */
  maxErrorBytes?: number;
  /** When it aborts, the command's process group is killed and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** How a command ended. A stopped container is raised as `ContainerStoppedError` instead. */
export interface RunInContainerResult {
  /** The command's exit status (128 + n when killed by signal n; -1 when unknown). */
  exitCode: number;
  timedOut: boolean;
  /** Stdout, capped at `maxOutputBytes`. */
  output: string;
  /** Stderr, capped at `maxErrorBytes`. */
  errorOutput: string;
  /** How many processes the command left running that were killed once it ended (the runner path counts them). */
  leftoverProcesses?: number;
  /** Whether the container's pids limit refused a new process while the command ran (the runner path tells). */
  pidsLimitHit?: boolean;
  /** Set when a keyed call was answered from its record instead of run (the runner path tells, see `RunnerRecall`). */
  recall?: RunnerRecall;
}

/** Cap of the returned stderr when the request names none. */
export const DEFAULT_MAX_ERROR_BYTES = 16 * 1024;
/** `timeout --kill-after` in the wrapper. */
const KILL_AFTER_MS = COMMAND_KILL_AFTER_MS;
/** Slack before the worker stops trusting the in-container `timeout` and kills the group itself. */
const BACKSTOP_SLACK_MS = 3_000;
/** How long to wait for the stream to close once the run reported its status or was killed. */
const SETTLE_AFTER_EXIT_MS = 50;
const SETTLE_AFTER_KILL_MS = 3_000;

// Runs argv as its own session (so its process group can be killed from a second exec), records the group id under
// SANDBOX_RUN_DIR, bounds it with `timeout`, cleans up stragglers after a timeout, and prints the sentinel line. The
// sentinel is assembled by printf, so it appears in no process's arguments (`ps` output must not end the run).
const RUN_WRAPPER = `
run_id=$1
pgid_file="${SANDBOX_RUN_DIR}/$1.pgid"
timeout_seconds=$2
shift 2
[ -d "${SANDBOX_RUN_DIR}" ] || mkdir -p "${SANDBOX_RUN_DIR}"
setsid bash --noprofile --norc -c 'echo $$ > "$0" && exec timeout --kill-after=${KILL_AFTER_MS / 1000}s "$@"' \\
  "$pgid_file" "\${timeout_seconds}s" "$@"
status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  pgid=$(cat "$pgid_file" 2>/dev/null) && kill -KILL -- "-$pgid" 2>/dev/null
fi
rm -f "$pgid_file"
printf '__KEEL_%s_%s_EXIT_%d\\n' RUN "$run_id" "$status"
`;

type Outcome = 'exited' | 'ended' | 'deadline' | 'aborted';

/**
 * Runs one command in a container through `docker exec` and returns its exit status and capped output. The command
 * runs in its own process group under `timeout`; on timeout or cancellation the group is killed from a second exec,
 * because Docker cannot kill an exec. Cancellation rejects with the signal's reason once the group is gone.
 */
export async function runInContainer(request: RunInContainerRequest): Promise<RunInContainerResult> {
  const signal = request.signal;
  signal?.throwIfAborted();
  const runId = randomBytes(8).toString('hex');
  const scanner = new SentinelScanner(sentinelOf(runId));
  const output = new OutputCollector(request.maxOutputBytes);
  const errorOutput = new OutputCollector(request.maxErrorBytes ?? DEFAULT_MAX_ERROR_BYTES);
  const outputFile = request.outputFile
    ? new OutputFileWriter({
        docker: request.docker,
        containerId: request.containerId,
        target: request.outputFile,
        afterBytes: request.maxOutputBytes,
      })
    : undefined;
  const saveOutput = (data: Buffer): void => {
    output.push(data);
    outputFile?.push(data);
  };
  const waits = new Waits();
  const startedAt = performance.now();
  const exitSeen = waits.deferred();
  const started = await startExec({
    docker: request.docker,
    containerId: request.containerId,
    argv: [
      'bash',
      '--noprofile',
      '--norc',
      '-c',
      RUN_WRAPPER,
      'keel-run',
      runId,
      String(request.timeoutMs / 1000),
      ...request.argv,
    ],
    ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
    onOutput: (stream, data) => {
      if (stream === 'stderr') {
        errorOutput.push(data);
        return;
      }
      const commandOutput = scanner.push(data);
      if (commandOutput.length > 0) saveOutput(commandOutput);
      if (scanner.exitCode !== undefined) exitSeen.resolve();
    },
  });
  try {
    const outcome = await Promise.race<Outcome>([
      exitSeen.promise.then(() => 'exited' as const),
      started.ended.then(() => 'ended' as const),
      waits.delay(request.timeoutMs + KILL_AFTER_MS + BACKSTOP_SLACK_MS).then(() => 'deadline' as const),
      waits.abort(signal).then(() => 'aborted' as const),
    ]);
    if (outcome === 'deadline' || outcome === 'aborted') {
      // Best effort: a failed kill must not hide the cancellation, and the in-container `timeout` still applies.
      await killRun({ docker: request.docker, containerId: request.containerId, runId }).catch(() => false);
      await Promise.race([exitSeen.promise, started.ended, waits.delay(SETTLE_AFTER_KILL_MS)]);
      if (outcome === 'aborted') throw cancellationOf(signal);
    } else if (outcome === 'exited') {
      await Promise.race([started.ended, waits.delay(SETTLE_AFTER_EXIT_MS)]);
    }
    if (outcome === 'ended' && scanner.exitCode === undefined) {
      saveOutput(scanner.flush());
      await throwIfContainerStopped(request.docker, request.containerId, waits);
    }
    const exitCode = scanner.exitCode ?? (await exitCodeOf(started.exec));
    const elapsedMs = performance.now() - startedAt;
    const timedOut =
      outcome === 'deadline' || ((exitCode === 124 || exitCode === 137) && elapsedMs >= request.timeoutMs);
    const saved = await outputFile?.finish();
    const note = saved ? outputFileNote(saved) : request.cutNote;
    return { exitCode, timedOut, output: output.text(note), errorOutput: errorOutput.text() };
  } finally {
    waits.clear();
    started.close();
    outputFile?.close();
  }
}

/** The exit status Docker recorded for an exec whose wrapper printed none; -1 while it runs or when it is gone. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  try {
    return (await exec.inspect()).ExitCode ?? -1;
  } catch {
    return -1;
  }
}

function sentinelOf(runId: string): string {
  return `__KEEL_RUN_${runId}_EXIT_`;
}
