import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  PACKAGE_BUILD_PROGRAM,
  PACKAGE_MANAGER_EXIT_STATUS,
} from '../activities/sandbox/packages/package-build-program';
import { pythonConstantsModule, pythonProgramSource } from '../activities/sandbox/python-program';
import { RUNNER_CONSTANTS, RUNNER_MODULES, runnerArgv } from '../activities/sandbox/runner/runner-source';
import { SHELL_STATE_END_LINE } from '../activities/sandbox/tools/bash';
import { pythonHelperCommand, TOOL_ERROR_STATUS } from '../activities/sandbox/tools/python-helper-program';

/**
 * The programs Keel runs inside the sandbox are real Python files (activities/sandbox/{runner,tools,packages}/python/),
 * and the bash tool's persistent shell a real bash file (activities/sandbox/tools/shell/).
 * These tests lint them with Ruff, run their unit tests (test/python/, `python3 -m unittest`) on the host in temporary
 * folders, and run the assembled per-call programs on the host; none needs Docker. The runner itself never runs here:
 * after each command it kills every orphan it can see, and on a host that is every process.
 */

const ROOT = path.resolve(__dirname, '..');
const RUFF = path.join(ROOT, '.keel/tools/ruff/bin/ruff');
const PYTHON_FOLDERS = ['runner', 'tools', 'packages'].map((name) =>
  path.join(ROOT, 'activities/sandbox', name, 'python'),
);
const scratch = mkdtempSync(path.join(tmpdir(), 'keel-sandbox-programs-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a command to its end; a command that cannot start (say, no python3) throws with the reason. */
function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, ...options });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  return result;
}

/** Every Python file of the sandbox programs and their tests. */
function pythonFiles(): string[] {
  return [...PYTHON_FOLDERS, path.join(ROOT, 'test/python')].flatMap((folder) =>
    readdirSync(folder)
      .filter((name) => name.endsWith('.py'))
      .map((name) => path.join(folder, name)),
  );
}

describe('sandbox programs (Python)', () => {
  it('python3 is on the host: the unit tests of the sandbox programs need it', () => {
    const result = run('python3', ['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Python 3\./);
  });

  it('ruff: every sandbox program and its tests pass `ruff check` and `ruff format --check`', () => {
    if (!existsSync(RUFF)) {
      throw new Error(`Ruff is not installed at ${RUFF}: run 'bash scripts/setup.sh --tests' (or npm test)`);
    }
    const check = run(RUFF, ['check', '--no-cache', '.']);
    expect(check.stdout + check.stderr).toContain('All checks passed!');
    expect(check.status).toBe(0);
    const format = run(RUFF, ['format', '--check', '--no-cache', '.']);
    expect(format.status, format.stdout + format.stderr).toBe(0);
    // Ruff's include (ruff.toml) must reach every file; a file it skipped would go unlinted.
    const listed = run(RUFF, ['check', '--show-files', '--no-cache', '.']).stdout;
    for (const file of pythonFiles()) expect(listed).toContain(file);
  });

  it('the programs are ASCII: they travel on a command line, whatever the container locale', () => {
    const files = pythonFiles();
    expect(files.length).toBeGreaterThanOrEqual(16);
    for (const file of files) expect(readFileSync(file, 'utf8'), file).toMatch(/^[\t\n -~]*$/);
  });

  it('python3 -m unittest: the call records, output file, leftover sweep, persistent shell and file tools pass on the host', () => {
    // keel_constants.py as the programs get it, from the TypeScript side's values.
    const constantsFolder = path.join(scratch, 'constants');
    const constants = pythonConstantsModule({ ...RUNNER_CONSTANTS, PACKAGE_MANAGER_EXIT_STATUS });
    mkdirSync(constantsFolder);
    writeFileSync(path.join(constantsFolder, `${constants.name}.py`), constants.source);
    const started = performance.now();
    const result = run(
      'python3',
      ['-B', '-m', 'unittest', 'discover', '-s', 'test/python', '-t', 'test/python', '-v'],
      {
        env: { ...process.env, PYTHONPATH: [constantsFolder, ...PYTHON_FOLDERS].join(path.delimiter) },
      },
    );
    const elapsedMs = performance.now() - started;
    expect(result.stderr).toMatch(/\nOK\n?$/);
    expect(result.status).toBe(0);
    const ran = Number(/^Ran (\d+) tests? in /m.exec(result.stderr)?.[1]);
    expect(ran).toBeGreaterThanOrEqual(50);
    expect(elapsedMs).toBeLessThan(20_000);
  });

  it("the bash tool's persistent shell parses (`bash -n`) and ends its saved state with the line the runner checks for", () => {
    const file = path.join(ROOT, 'activities/sandbox/tools/shell/persistent-shell.bash');
    const parsed = run('bash', ['-n', file]);
    expect(parsed.stderr).toBe('');
    expect(parsed.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(`'${SHELL_STATE_END_LINE}'`);
  });

  it('pythonHelperCommand: the assembled per-call program reads, writes and refuses a non-unique edit on the host', () => {
    const folder = path.join(scratch, 'workspace');
    mkdirSync(folder);
    const file = path.join(folder, 'notes.txt');
    const call = (helper: Parameters<typeof pythonHelperCommand>[0]) => {
      const { argv, stdin } = pythonHelperCommand(helper);
      return run(argv[0]!, argv.slice(1), { input: stdin });
    };
    const written = call({ toolName: 'write', request: { file_path: file, content: 'x = 1\nx = 1\n\u00e9\n' } });
    expect([written.status, written.stdout]).toEqual([0, `wrote 15 bytes to ${file}`]);
    const read = call({ toolName: 'read', request: { file_path: file, view_range: '2,3' } });
    expect([read.status, read.stdout]).toEqual([0, 'x = 1\n\u00e9']);
    const edited = call({
      toolName: 'edit',
      request: { file_path: file, old_string: 'x = 1', new_string: 'y', replace_all: '' },
    });
    expect([edited.status, edited.stdout]).toEqual([
      TOOL_ERROR_STATUS,
      `edit: old_string appears 2 times in ${file} (must be unique)`,
    ]);
    const globbed = call({ toolName: 'glob', request: { pattern: '*.txt', path: folder } });
    expect([globbed.status, globbed.stdout]).toEqual([0, file]);
  });

  it('the runner and package build programs compile, and the runner loads every module but its event loop', () => {
    for (const source of [runnerArgv()[4]!, PACKAGE_BUILD_PROGRAM]) {
      const compiled = run('python3', ['-I', '-c', 'import sys; compile(sys.stdin.read(), "program", "exec")'], {
        input: source,
      });
      expect(compiled.status, compiled.stderr).toBe(0);
    }
    // Every module imports (so they come in an order that satisfies their imports); keel_runner loads as a module,
    // which does not start its loop.
    const probe = pythonProgramSource([
      pythonConstantsModule(RUNNER_CONSTANTS),
      ...RUNNER_MODULES,
      { name: 'probe', source: 'import keel_runner\nprint(sorted(keel_runner.FILE_TOOLS))\n' },
    ]);
    const loaded = run('python3', ['-I', '-c', probe]);
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout).toBe("['edit', 'glob', 'read', 'write']\n");
  });

  it('pythonConstantsModule: strings, numbers, booleans and mappings become Python literals; bad names are refused', () => {
    const module = pythonConstantsModule({ TEXT: 'a "b"\n', COUNT: 2.5, FLAG: false, MAP: { apt: 11, on: true } });
    const result = run('python3', [
      '-I',
      '-c',
      pythonProgramSource([
        module,
        {
          name: 'main',
          source: 'import keel_constants as c\nprint(repr(c.__dict__["TEXT"]), c.COUNT, c.FLAG, c.MAP)\n',
        },
      ]),
    ]);
    expect(result.stdout).toBe(`'a "b"\\n' 2.5 False {'apt': 11, 'on': True}\n`);
    expect(() => pythonConstantsModule({ lower: 1 })).toThrow('not an upper-case Python constant name');
    expect(() => pythonConstantsModule({ NAN: Number.NaN })).toThrow('finite number');
  });
});
