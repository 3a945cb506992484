import path from 'node:path';

import { OUTPUT_FILE_TRUNCATION_NOTE } from '../output-file';
import { pythonConstantsModule, pythonProgramSource, readPythonModule } from '../python-program';
import type { PythonConstant, PythonModule } from '../python-program';
import {
  COMMAND_KILL_AFTER_MS,
  MAX_CALL_RECORDS,
  MAX_SAVED_OUTPUT_FILES,
  SANDBOX_CALLS_DIR,
  SANDBOX_RUN_DIR,
} from '../sandbox-constants';
import { RUNNER_SAVES_STATE_VARIABLE, SHELL_STATE_END_LINE } from '../tools/bash';
import { FILE_TOOL_CONSTANTS, FILE_TOOL_MODULES } from '../tools/python-helper-program';

/** The last argument of the runner's command line, so `pgrep -f` (and a person reading `ps`) can find it. */
export const RUNNER_MARKER = 'keel-runner';

/** Where the runner's Python files are; they ship with the sources (deploy/Dockerfile copies activities/). */
const PYTHON_DIRECTORY = path.join(__dirname, 'python');

/** The constants the runner's Python (and the file tools it runs) imports from `keel_constants`. */
export const RUNNER_CONSTANTS = {
  ...FILE_TOOL_CONSTANTS,
  RUN_DIR: SANDBOX_RUN_DIR,
  CALLS_DIR: SANDBOX_CALLS_DIR,
  MAX_CALL_RECORDS,
  RUNNER_MARKER,
  KILL_AFTER_SECONDS: COMMAND_KILL_AFTER_MS / 1000,
  STATE_VARIABLE: RUNNER_SAVES_STATE_VARIABLE,
  STATE_END_LINE: SHELL_STATE_END_LINE,
  MAX_OUTPUT_FILES: MAX_SAVED_OUTPUT_FILES,
  OUTPUT_FILE_TRUNCATION_NOTE,
} as const satisfies Record<string, PythonConstant>;

/**
 * The runner's modules after `keel_constants`, in import order, ending with its main module `keel_runner` (the event
 * loop; see `python/keel_runner.py` for its protocol). The file tools come first: the runner compiles them once at start
 * instead of once per call.
 */
export const RUNNER_MODULES: readonly PythonModule[] = [
  ...FILE_TOOL_MODULES,
  ...['keel_frames', 'keel_output_file', 'keel_leftover_sweep', 'keel_call_records', 'keel_shell', 'keel_runner'].map(
    (name) => readPythonModule(PYTHON_DIRECTORY, name),
  ),
];

const RUNNER_SOURCE = pythonProgramSource([pythonConstantsModule(RUNNER_CONSTANTS), ...RUNNER_MODULES]);

/**
 * The runner's command line: the whole program inline (the root file system is read-only, so nothing is installed),
 * in isolated mode (no `PYTHON*` variables, no user site) and unbuffered, with `RUNNER_MARKER` last.
 */
export function runnerArgv(): string[] {
  return ['python3', '-I', '-u', '-c', RUNNER_SOURCE, RUNNER_MARKER];
}
