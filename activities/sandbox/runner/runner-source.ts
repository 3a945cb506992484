import { OUTPUT_FILE_TRUNCATION_NOTE } from '../output-file';
import {
  COMMAND_KILL_AFTER_MS,
  MAX_CALL_RECORDS,
  MAX_SAVED_OUTPUT_FILES,
  SANDBOX_CALLS_DIR,
  SANDBOX_RUN_DIR,
} from '../sandbox-constants';
import { RUNNER_SAVES_STATE_VARIABLE, SHELL_STATE_END_LINE } from '../tools/bash';
import { EDIT_TOOL_PYTHON } from '../tools/edit';
import { GLOB_TOOL_PYTHON } from '../tools/glob';
import { PYTHON_HELPER_PRELUDE, TOOL_ERROR_STATUS } from '../tools/python-helper-program';
import type { FileToolName } from '../tools/python-helper-program';
import { READ_TOOL_PYTHON } from '../tools/read';
import { WRITE_TOOL_PYTHON } from '../tools/write';
import { CALL_RECORD_PROGRAM } from './call-record-program';
import { LEFTOVER_SWEEP_PROGRAM } from './leftover-sweep-program';
import { OUTPUT_FILE_PROGRAM } from './output-file-program';
import { RUNNER_PROGRAM } from './runner-program';

/** The last argument of the runner's command line, so `pgrep -f` (and a person reading `ps`) can find it. */
export const RUNNER_MARKER = 'keel-runner';

/** The file tools' Python modules, which the runner compiles once at start instead of once per call. */
const FILE_TOOL_PYTHON: Record<FileToolName, string> = {
  read: READ_TOOL_PYTHON,
  write: WRITE_TOOL_PYTHON,
  edit: EDIT_TOOL_PYTHON,
  glob: GLOB_TOOL_PYTHON,
};

// A JSON string literal is also a valid Python string literal, so the constants cross into Python through it.
const RUNNER_SOURCE = [
  PYTHON_HELPER_PRELUDE,
  `RUN_DIR = ${JSON.stringify(SANDBOX_RUN_DIR)}`,
  `CALLS_DIR = ${JSON.stringify(SANDBOX_CALLS_DIR)}`,
  `MAX_CALL_RECORDS = ${MAX_CALL_RECORDS}`,
  `RUNNER_MARKER = ${JSON.stringify(RUNNER_MARKER)}`,
  `KILL_AFTER_SECONDS = ${COMMAND_KILL_AFTER_MS / 1000}`,
  `TOOL_ERROR_STATUS = ${TOOL_ERROR_STATUS}`,
  `STATE_VARIABLE = ${JSON.stringify(RUNNER_SAVES_STATE_VARIABLE)}`,
  `STATE_END = ${JSON.stringify(`${SHELL_STATE_END_LINE}\n`)}.encode()`,
  `FILE_TOOL_SOURCES = ${JSON.stringify(FILE_TOOL_PYTHON)}`,
  `MAX_OUTPUT_FILES = ${MAX_SAVED_OUTPUT_FILES}`,
  `OUTPUT_FILE_TRUNCATION_NOTE = ${JSON.stringify(OUTPUT_FILE_TRUNCATION_NOTE)}`,
  OUTPUT_FILE_PROGRAM,
  LEFTOVER_SWEEP_PROGRAM,
  CALL_RECORD_PROGRAM,
  RUNNER_PROGRAM,
].join('\n');

/**
 * The runner's command line: the whole program inline (the root file system is read-only, so nothing is installed),
 * in isolated mode (no `PYTHON*` variables, no user site) and unbuffered, with `RUNNER_MARKER` last.
 */
export function runnerArgv(): string[] {
  return ['python3', '-I', '-u', '-c', RUNNER_SOURCE, RUNNER_MARKER];
}
