import type { ExecuteResult } from '../../../common/sandbox';
import type { ToolContext } from './prepared-tool';
import { TOOL_ERROR_STATUS } from './python-helper-program';
import type { PythonHelperRequest } from './python-helper-program';
import { recalledCallResult } from './recalled-call';

/**
 * Runs a file tool's Python code inside the container (never on the host), in the persistent runner or as its own
 * process, and maps its status to the tool result: 0 is output, 3 is a tool error, anything else an internal error.
 */
export async function runPythonHelper(context: ToolContext, helper: PythonHelperRequest): Promise<ExecuteResult> {
  const result = await context.runFileTool(helper);
  const recalled = recalledCallResult(helper.toolName, result);
  if (recalled) return recalled;
  if (result.timedOut) {
    return { isError: true, output: `${helper.toolName}: timed out after ${context.commandTimeoutMs}ms` };
  }
  if (result.exitCode === 0) return { isError: false, output: result.output };
  if (result.exitCode === TOOL_ERROR_STATUS) return { isError: true, output: result.output };
  const detail = result.errorOutput.trim() || `exit status ${result.exitCode}`;
  return { isError: true, output: `${helper.toolName}: internal error: ${detail}` };
}
