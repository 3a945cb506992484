import { ApplicationFailure } from '@temporalio/common';

import type { SandboxToolName } from '../../common/agent';
import { isSandboxToolName } from '../../common/agent';
import { FAILURE_TYPES } from '../../common/failures';
import type { ExecuteInput, ExecuteResult } from '../../common/sandbox';
import { capOutput } from './cap-output';
import { ContainerStoppedError } from './container-stopped-error';
import { provisionCheckedSandbox, proxyServes, sandboxFilesKey } from './provision-sandbox';
import { runInContainer } from './run-in-container';
import { runCommandInRunner } from './runner/run-command-in-runner';
import { runFileToolInRunner } from './runner/run-file-tool-in-runner';
import type { RunnerPool } from './runner/runner-pool';
import type { SandboxOptions } from './sandbox-options';
import { sandboxStoppedOutput } from './sandbox-stopped-output';
import { prepareBash } from './tools/bash';
import { prepareEdit } from './tools/edit';
import { prepareGlob } from './tools/glob';
import { prepareGrep } from './tools/grep';
import type { PreparedTool, ToolContext } from './tools/prepared-tool';
import { pythonHelperCommand } from './tools/python-helper-program';
import { prepareRead } from './tools/read';
import { idempotencyKeyOf, interruptedCallOutput, startedInLostContainer } from './tools/recalled-call';
import type { KeyedCallCheckpoint } from './tools/recalled-call';
import { prepareWrite } from './tools/write';
import { whileHeartbeating } from '../activity-control';
import type { ActivityControl } from '../activity-control';
import { DEFAULT_MAX_SAVED_OUTPUT_BYTES, SANDBOX_HEARTBEAT_INTERVAL_MS } from './sandbox-constants';
import { toolOutputPath } from './tool-output-path';
import { SESSION_ID_ATTRIBUTE } from '../../common/telemetry-attributes';
import { withSpan } from '../with-span';
import type { SessionMemoryRows } from '../../common/memory';
import { memoryMountsOf, memorySyncNote, syncMemoryMounts } from './memory-mounts';

/** How `execute` talks to its caller while it runs: the Activity's heartbeat and cancellation signal, when it has them. */
export type ExecutionControl = ActivityControl;

const PREPARE_TOOL: Record<SandboxToolName, (input: Record<string, unknown>) => PreparedTool> = {
  bash: prepareBash,
  read: prepareRead,
  write: prepareWrite,
  edit: prepareEdit,
  glob: prepareGlob,
  grep: prepareGrep,
};

/**
 * Runs one built-in tool in the session's container, provisioning it first (so a dead container is replaced: cattle),
 * unless this worker's runner runs in the container `provisionSandbox` last found for the session (see
 * `reusableContainer`); a reused container found stopped before the call began is replaced then. With `runners`,
 * commands and file tools go through the container's persistent runner (one long-lived exec instead of one exec and
 * several processes per call); without, each call is its own exec. A `bash` or `grep` output over the cap is saved
 * whole in the workspace (`toolOutputPath(input.outputName)`) and its cut marker names the file. Bad input, a failing
 * command, a timeout and a container that stops under the call are tool errors the model sees, never throws; a
 * cancellation kills the command and rejects with the cancellation. Through a runner, a `bash`, `write` or `edit` call
 * is keyed by its tool-use id (`idempotencyKeyOf`): retried after a worker crash in the same container, it returns the
 * recorded result of its first run (waiting for it if it still runs) instead of running twice, or an `interrupted`
 * error when it started and will never finish; the container it was sent to is heartbeated (`KeyedCallCheckpoint`), so
 * a retry that finds a new container (the records died with the old one) reports it `interrupted` too.
 */
export async function execute(
  options: SandboxOptions,
  input: ExecuteInput,
  control: ExecutionControl = {},
  runners?: RunnerPool,
): Promise<ExecuteResult> {
  if (!isSandboxToolName(input.name)) return { isError: true, output: `Error: Tool '${input.name}' not found` };
  const toolInput = typeof input.input === 'object' && input.input !== null ? input.input : {};
  const prepared = PREPARE_TOOL[input.name](toolInput);
  if (prepared.kind === 'invalid') return { isError: true, output: prepared.output };
  return whileHeartbeating(
    control,
    async () => {
      const runTool = async (containerId: string): Promise<ExecuteResult> => {
        const target = { docker: options.docker, containerId, ...(control.signal ? { signal: control.signal } : {}) };
        const key = runners ? idempotencyKeyOf(input.name, input.outputName) : undefined;
        const keyed = key === undefined ? {} : { idempotencyKey: key };
        if (key !== undefined) {
          if (startedInLostContainer(control.previousHeartbeat, key, containerId)) {
            return { isError: true, output: interruptedCallOutput(input.name) };
          }
          const checkpoint: KeyedCallCheckpoint = { idempotencyKey: key, containerId };
          // Carried by the next heartbeat: a call that ends within a heartbeat interval needs no checkpoint.
          control.record?.(checkpoint);
        }
        const context: ToolContext = {
          commandTimeoutMs: options.commandTimeoutMs,
          maxOutputBytes: options.maxOutputBytes,
          outputFile: {
            path: toolOutputPath(input.outputName),
            maxBytes: options.maxSavedOutputBytes ?? DEFAULT_MAX_SAVED_OUTPUT_BYTES,
          },
          run: (request) =>
            runners
              ? runCommandInRunner({ ...target, ...request, runners, ...keyed })
              : runInContainer({ ...target, ...request }),
          runFileTool: (helper) => {
            const limits = { timeoutMs: options.commandTimeoutMs, maxOutputBytes: options.maxOutputBytes };
            return runners
              ? runFileToolInRunner({ ...target, ...limits, helper, runners, ...keyed })
              : runInContainer({ ...target, ...limits, ...pythonHelperCommand(helper), cutNote: helper.cutNote });
          },
        };
        const attributes = {
          [SESSION_ID_ATTRIBUTE]: input.sessionId,
          'keel.tool.name': input.name,
          'container.id': containerId,
        };
        const result = await withSpan('sandbox.execute', attributes, () => prepared.run(context));
        const output = capOutput(result.output, options.maxOutputBytes);
        const note = await syncMemoryAfter(options, input, containerId);
        return { isError: result.isError, output: note === undefined ? output : `${output}\n${note}` };
      };
      try {
        const reused = runners === undefined ? undefined : await reusableContainer(options, input, runners);
        if (reused !== undefined) {
          const since = Date.now();
          try {
            return await runTool(reused);
          } catch (error) {
            // Stopped before this call began (its runner's end not yet seen): nothing of the call ran there, so it runs.
            if (!(error instanceof ContainerStoppedError && (await stoppedBefore(options, reused, since)))) throw error;
          }
        }
        return await runTool(await provisionedContainer(options, input, control.signal, runners));
      } catch (error) {
        if (error instanceof ContainerStoppedError)
          return { isError: true, output: sandboxStoppedOutput(error.detail) };
        if (isEnvironmentFailure(error)) return { isError: true, output: error.message };
        throw error;
      }
    },
    SANDBOX_HEARTBEAT_INTERVAL_MS,
  );
}

/**
 * The session's container if this worker's runner runs in it, as `provisionSandbox` last checked it for the same files
 * and with a proxy that still serves: most tool calls use it and skip `provisionSandbox` and its Docker inspect.
 */
async function reusableContainer(
  options: SandboxOptions,
  input: ExecuteInput,
  runners: RunnerPool,
): Promise<string | undefined> {
  const known = runners.checkedSandbox(input.sessionId);
  if (known?.filesKey !== sandboxFilesKey(input.files ?? [])) return undefined;
  return (await proxyServes(options, known.proxy)) ? known.containerId : undefined;
}

/**
 * Whether the container had stopped before `since` (ms since the epoch, on this worker's clock); `false` when it runs,
 * is gone, or cannot be told. Its stop time is on the Docker engine's clock, which may be another machine's: `since` is
 * moved onto that clock by the engine's own time, read in the same moment, taking the earliest it can have been.
 */
async function stoppedBefore(options: SandboxOptions, containerId: string, since: number): Promise<boolean> {
  try {
    const [{ State }, { SystemTime }] = await Promise.all([
      options.docker.getContainer(containerId).inspect(),
      options.docker.info() as Promise<{ SystemTime: string }>,
    ]);
    // The engine read its clock before this moment: this is the least its lead over this worker's clock can be.
    const engineLead = Date.parse(SystemTime) - Date.now();
    const stoppedAt = Date.parse(State.FinishedAt);
    return !State.Running && Number.isFinite(stoppedAt + engineLead) && stoppedAt < since + engineLead;
  } catch {
    return false;
  }
}

/**
 * What `provisionSandbox` finds or makes for the session; a running container it reused is remembered in `runners`
 * (see `reusableContainer`).
 */
async function provisionedContainer(
  options: SandboxOptions,
  input: ExecuteInput,
  signal: AbortSignal | undefined,
  runners: RunnerPool | undefined,
): Promise<string> {
  const { containerId, checked } = await provisionCheckedSandbox(
    options,
    {
      sessionId: input.sessionId,
      ...(input.files === undefined ? {} : { files: input.files }),
      ...(input.environment === undefined ? {} : { environment: input.environment }),
      ...(input.vaultIds === undefined ? {} : { vaultIds: input.vaultIds }),
      ...(input.workspaceId === undefined ? {} : { workspaceId: input.workspaceId }),
    },
    signal,
  );
  if (checked !== undefined) runners?.rememberCheckedSandbox(input.sessionId, checked);
  return containerId;
}

/** The tools that can change files, after which a session's writable memory mounts are read back into their stores. */
const WRITING_TOOLS: ReadonlySet<string> = new Set(['bash', 'write', 'edit']);

/**
 * Writes what a write tool changed under the session's `read_write` memory mounts to their stores; returns a note for
 * the model when something could not be kept (a failed sync is said, not thrown: the tool call itself happened).
 */
async function syncMemoryAfter(
  options: SandboxOptions,
  input: ExecuteInput,
  containerId: string,
): Promise<string | undefined> {
  if (options.memory === undefined || !WRITING_TOOLS.has(input.name)) return undefined;
  try {
    const mounts = await memoryMountsOf(options.memory, input.sessionId);
    if (!mounts.some((mount) => mount.access === 'read_write')) return undefined;
    const syncs = await withSpan('sandbox.memory_sync', { [SESSION_ID_ATTRIBUTE]: input.sessionId }, () =>
      syncMemoryMounts(options.docker, containerId, input.sessionId, mounts, options.memory as SessionMemoryRows),
    );
    return memorySyncNote(syncs);
  } catch (error) {
    return `keel: the memory stores could not be updated (${(error as Error).message}); the change is not kept yet.`;
  }
}

/** A failure to give the sandbox its environment (packages, network): the model sees it, as no retry can help. */
function isEnvironmentFailure(error: unknown): error is ApplicationFailure {
  return (
    error instanceof ApplicationFailure &&
    (error.type === FAILURE_TYPES.sandboxPackagesFailed || error.type === FAILURE_TYPES.sandboxNetworkUnavailable)
  );
}
