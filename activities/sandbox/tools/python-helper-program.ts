import path from 'node:path';

import { pythonConstantsModule, pythonProgramSource, readPythonModule } from '../python-program';
import type { PythonConstant, PythonModule } from '../python-program';
import { SANDBOX_WORKDIR } from '../sandbox-constants';

/** The exit status a helper uses for an expected tool error; its stdout is then the error text. */
export const TOOL_ERROR_STATUS = 3;

/** The file tools that run as Python: each one's module (`python/keel_<name>_tool.py`) defines `run(request)`. */
export type FileToolName = 'read' | 'write' | 'edit' | 'glob';

/** Where the file tools' Python files are; they ship with the sources (deploy/Dockerfile copies activities/). */
const PYTHON_DIRECTORY = path.join(__dirname, 'python');

/** The constants the file tools' Python imports from `keel_constants`. */
export const FILE_TOOL_CONSTANTS = {
  WORKDIR: SANDBOX_WORKDIR,
  TOOL_ERROR_STATUS,
} as const satisfies Record<string, PythonConstant>;

const FILE_TOOL_NAMES: readonly FileToolName[] = ['read', 'write', 'edit', 'glob'];

const PRELUDE = readPythonModule(PYTHON_DIRECTORY, 'keel_prelude');

const TOOL_MODULES = Object.fromEntries(
  FILE_TOOL_NAMES.map((toolName) => [toolName, readPythonModule(PYTHON_DIRECTORY, `keel_${toolName}_tool`)]),
) as Record<FileToolName, PythonModule>;

/**
 * `keel_prelude` (path resolution against the workdir, the SDK's errno wording, `ToolError`, an atomic write) and the
 * four tools' modules, in import order: what both the per-call helper and the persistent runner load, so a file tool
 * behaves the same on either path. A program puts its `keel_constants` before them.
 */
export const FILE_TOOL_MODULES: readonly PythonModule[] = [
  PRELUDE,
  ...FILE_TOOL_NAMES.map((name) => TOOL_MODULES[name]),
];

const FILE_TOOL_MAIN = readPythonModule(PYTHON_DIRECTORY, 'keel_file_tool_main');

/**
 * The per-call helper's program for each tool: its constants, the prelude, only that tool's module, and the main
 * module that runs it (so a per-call run compiles no other tool).
 */
const FILE_TOOL_PROGRAMS = Object.fromEntries(
  FILE_TOOL_NAMES.map((toolName) => {
    const modules = [pythonConstantsModule(FILE_TOOL_CONSTANTS), PRELUDE, TOOL_MODULES[toolName], FILE_TOOL_MAIN];
    return [toolName, pythonProgramSource(modules)];
  }),
) as Record<FileToolName, string>;

/** One file tool call: the tool (whose Python module defines `run(request)`) and the request, as a dict of strings. */
export interface PythonHelperRequest {
  toolName: FileToolName;
  request: Record<string, string>;
  /** Said in the cut marker when the output is over the cap: how the model can see what was cut. */
  cutNote?: string;
}

/**
 * The one-shot command that runs a file tool as its own Python process (the path without a persistent runner): the
 * program (see `keel_file_tool_main.py`) as argv with the tool's name last, the request as length-prefixed fields on
 * stdin.
 */
export function pythonHelperCommand(helper: PythonHelperRequest): { argv: string[]; stdin: string } {
  return {
    argv: ['python3', '-I', '-c', FILE_TOOL_PROGRAMS[helper.toolName], helper.toolName],
    stdin: encodeFields(helper.request),
  };
}

/** Encodes the request as length-prefixed fields (`<bytes>:<text>`, key then value), which Python parses unaided. */
function encodeFields(request: Record<string, string>): string {
  return Object.entries(request)
    .flat()
    .map((field) => `${Buffer.byteLength(field, 'utf8')}:${field}`)
    .join('');
}
