import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One module of a program that runs inside the sandbox: the name its siblings import it by, and its source. */
export interface PythonModule {
  name: string;
  source: string;
}

/** A value the generated `keel_constants` module can hold; each is written as the Python literal of the same value. */
export type PythonConstant = string | number | boolean | { readonly [key: string]: string | number | boolean };

/** The module every program imports its constants from; the TypeScript side writes it, so both share one value. */
export const PYTHON_CONSTANTS_MODULE_NAME = 'keel_constants';

/**
 * Reads `<directory>/<name>.py`, a real Python file (linted with ruff and unit-tested on the host, see
 * `test/sandbox-programs.test.ts`); called at module load, so a missing file stops the worker at start-up.
 */
export function readPythonModule(directory: string, name: string): PythonModule {
  return { name, source: readFileSync(path.join(directory, `${name}.py`), 'utf8') };
}

/** The Python literal of a constant: a JSON string or number is one already, booleans and mappings are spelled out. */
function pythonLiteral(value: PythonConstant): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`a Python constant must be a finite number, not ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${pythonLiteral(item)}`);
  return `{${entries.join(', ')}}`;
}

/** The `keel_constants` module with `constants` as its top-level names (upper case, as Python constants are). */
export function pythonConstantsModule(constants: Readonly<Record<string, PythonConstant>>): PythonModule {
  const lines = Object.entries(constants).map(([name, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`${name} is not an upper-case Python constant name`);
    return `${name} = ${pythonLiteral(value)}`;
  });
  return { name: PYTHON_CONSTANTS_MODULE_NAME, source: `${lines.join('\n')}\n` };
}

/**
 * The source of one `python3 -c` program made of `modules`: each one but the last becomes a module in `sys.modules`
 * (in the order given, so a module comes after those it imports), and the last runs as `__main__`. The container's root
 * file system is read-only and nothing is installed in the image, so the files travel on the command line; a JSON
 * string literal is also a valid Python string literal, so the sources cross into Python through it. The bootstrap
 * uses only `sys`, which every interpreter has loaded: the image has no `.pyc` files, so every other import costs.
 */
export function pythonProgramSource(modules: readonly PythonModule[]): string {
  const main = modules.at(-1);
  if (main === undefined) throw new Error('a Python program needs at least one module');
  const library = modules
    .slice(0, -1)
    .map(({ name, source }) => `(${JSON.stringify(name)}, ${JSON.stringify(source)})`);
  const lines = ['import sys'];
  if (library.length > 0) {
    lines.push(
      `for _keel_name, _keel_source in (${library.map((entry) => `${entry},`).join(' ')}):`,
      '    _keel_module = type(sys)(_keel_name)',
      '    sys.modules[_keel_name] = _keel_module',
      "    exec(compile(_keel_source, '<%s.py>' % _keel_name, 'exec'), _keel_module.__dict__)",
      'del _keel_name, _keel_source, _keel_module',
    );
  }
  lines.push(`exec(compile(${JSON.stringify(main.source)}, ${JSON.stringify(`<${main.name}.py>`)}, 'exec'))`, '');
  return lines.join('\n');
}
