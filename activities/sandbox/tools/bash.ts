import { readFileSync } from 'node:fs';
import path from 'node:path';

import { SANDBOX_SHELL_STATE_FILE } from '../sandbox-constants';
import { invalidInput } from './prepared-tool';
import { recalledCallResult } from './recalled-call';
import { resourceNote } from './resource-note';
import type { PreparedTool } from './prepared-tool';
import { isAbsent, isInteger } from './tool-input';

// eslint-disable-next-line no-control-regex -- terminal escape sequences start with the ESC control character.
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * Room left under the cap for the lines the tool appends (`exit status N`, the timeout, a `resourceNote`), so the cap
 * `execute` applies last never cuts a second time, through the marker that names the saved output.
 */
const STATUS_LINE_RESERVE_BYTES = 400;

/** Set by a persistent runner that moves the saved shell state into place itself (see `ToolRunRequest.stateFile`). */
export const RUNNER_SAVES_STATE_VARIABLE = 'KEEL_RUNNER_SAVES_STATE';

/** The last line of a complete shell-state file; a runner moves only a complete file into place. */
export const SHELL_STATE_END_LINE = '# keel shell state end';

// Runs the command (read from stdin, so it needs no quoting) with stdout and stderr on one pipe, stdin at EOF, and the
// working directory and exported variables of the previous call; an EXIT trap saves them for the next call, to
// `<state>.<pid>` then moved into place (by `mv`, or by the runner that started it). The bash exit status is the
// command's: an EXIT trap does not change it. Builtins only on the common path: every extra process costs
// milliseconds on a call that is itself a few milliseconds.
const BASH_SCRIPT = `
exec 2>&1
__keel_state=$1
__keel_runner_saves=\${${RUNNER_SAVES_STATE_VARIABLE}-}
unset ${RUNNER_SAVES_STATE_VARIABLE}
if [ "$2" = restart ]; then rm -f "$__keel_state"; fi
IFS= read -r -d '' __keel_command
exec </dev/null
set --
if [ -f "$__keel_state" ]; then . "$__keel_state"; fi
__keel_save_state() {
  {
    printf 'cd -- %q 2>/dev/null\\n' "$PWD"
    export -p
    printf '%s\\n' '${SHELL_STATE_END_LINE}'
  } > "$__keel_state.$$" 2>/dev/null || return
  [ -n "$__keel_runner_saves" ] || mv -f "$__keel_state.$$" "$__keel_state"
}
trap __keel_save_state EXIT
eval "$__keel_command"
`;

/**
 * The persistent shell's argv without the three paths the runner appends (see `shell/persistent-shell.bash`, read at
 * module load, so a missing file stops the worker at start-up). `$0` is `bash`, as for `BASH_SCRIPT`.
 */
const PERSISTENT_SHELL_ARGV: readonly string[] = [
  'bash',
  '--noprofile',
  '--norc',
  '-c',
  readFileSync(path.join(__dirname, 'shell', 'persistent-shell.bash'), 'utf8'),
  'bash',
  SANDBOX_SHELL_STATE_FILE,
];

/**
 * Prepares a `bash` call: `{ command, restart?, timeout_ms? }` as the SDK's agent toolset takes it. Through a
 * persistent runner a call runs in the container's one persistent shell, so variables, functions and options carry over
 * while it lives; per call (no runner, or a second call while the shell is busy) each call is a new process. Either way
 * the working directory and exported variables carry over, also to a new shell (`restart` forgets them). A non-zero
 * exit status is an error whose output ends with `exit status N`; a timeout is an error that says so; processes the
 * command left running (killed once it ended) and a KILL (out of memory) are said in a `keel:` line before those.
 * Output over the cap keeps its head and tail, and is saved whole to `context.outputFile`, which the cut marker names.
 */
export function prepareBash(input: Record<string, unknown>): PreparedTool {
  const { command, restart, timeout_ms: timeoutMs } = input;
  if (!isAbsent(command) && typeof command !== 'string') return invalidInput('bash: command must be a string');
  if (!isAbsent(restart) && typeof restart !== 'boolean') return invalidInput('bash: restart must be a boolean');
  if (!isAbsent(timeoutMs) && !(isInteger(timeoutMs) && timeoutMs > 0)) {
    return invalidInput('bash: timeout_ms must be a positive integer');
  }
  if (!command && restart !== true) return invalidInput('bash: command is required');
  return {
    kind: 'ready',
    run: async (context) => {
      const limitMs = isAbsent(timeoutMs) ? context.commandTimeoutMs : Math.min(timeoutMs, context.commandTimeoutMs);
      const result = await context.run({
        argv: [
          'bash',
          '--noprofile',
          '--norc',
          '-c',
          BASH_SCRIPT,
          // $0: bash names it in its own messages (`bash: foo: command not found`).
          'bash',
          SANDBOX_SHELL_STATE_FILE,
          restart === true ? 'restart' : 'continue',
        ],
        stdin: command ?? '',
        stateFile: SANDBOX_SHELL_STATE_FILE,
        // `restart` runs per call, which removes the state: the runner's shell then no longer serves, as the file is
        // not the one it wrote, and the next call starts a new one.
        ...(restart === true ? {} : { shell: [...PERSISTENT_SHELL_ARGV] }),
        timeoutMs: limitMs,
        maxOutputBytes: Math.max(1, context.maxOutputBytes - STATUS_LINE_RESERVE_BYTES),
        outputFile: context.outputFile,
      });
      const recalled = recalledCallResult('bash', result);
      if (recalled) return recalled;
      const note = resourceNote(result);
      const printed = result.output.replace(ANSI_ESCAPE, '').replace(/\n+$/, '');
      const output = note === undefined ? printed : joinLines(printed, note);
      if (result.timedOut) {
        return { isError: true, output: joinLines(output, `bash: command timed out after ${limitMs}ms`) };
      }
      if (!command) return { isError: false, output: 'bash session restarted' };
      if (result.exitCode !== 0) return { isError: true, output: joinLines(output, `exit status ${result.exitCode}`) };
      return { isError: false, output };
    },
  };
}

function joinLines(output: string, line: string): string {
  return output ? `${output}\n${line}` : line;
}
