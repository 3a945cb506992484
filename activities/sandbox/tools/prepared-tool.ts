import type { ExecuteResult } from '../../../common/sandbox';
import type { OutputFileTarget } from '../output-file';
import type { RunInContainerResult } from '../run-in-container';
import type { PythonHelperRequest } from './python-helper-program';

/** One command a tool asks to run in the session's container. */
export interface ToolRunRequest {
  argv: string[];
  stdin?: string;
  timeoutMs: number;
  maxOutputBytes: number;
  /**
   * The bash tool's shell-state file. A persistent runner moves the state the command wrote to `<stateFile>.<pid>`
   * into place itself, so the command needs no `mv` process; without a runner the command moves it.
   */
  stateFile?: string;
  /**
   * With `stateFile`: the argv of the bash tool's persistent shell (see `tools/shell/persistent-shell.bash`), which a
   * persistent runner starts once and keeps, and in which it runs `stdin` as the command instead of running `argv`.
   * The per-call path, and a runner whose shell is busy with another call, run `argv`.
   */
  shell?: string[];
  /** Where the whole stdout is saved when it is over `maxOutputBytes` (the cut marker then names the file). */
  outputFile?: OutputFileTarget;
}

/** What a tool may use while it runs: runners bound to the session's container, and the sandbox's limits. */
export interface ToolContext {
  run(request: ToolRunRequest): Promise<RunInContainerResult>;
  /** Runs a file tool's Python `run(request)`: its status is 0 (output), 3 (tool error) or other (internal error). */
  runFileTool(helper: PythonHelperRequest): Promise<RunInContainerResult>;
  commandTimeoutMs: number;
  maxOutputBytes: number;
  /** Where this call's whole output goes when it is over the cap, for the tools that save it (`bash`, `grep`). */
  outputFile: OutputFileTarget;
}

/**
 * A tool call whose input was checked: either the error text the model sees (no container needed), or the work to do
 * in the container.
 */
export type PreparedTool =
  { kind: 'invalid'; output: string } | { kind: 'ready'; run(context: ToolContext): Promise<ExecuteResult> };

/** A tool call rejected before it runs, with the text the model sees. */
export function invalidInput(output: string): PreparedTool {
  return { kind: 'invalid', output };
}
