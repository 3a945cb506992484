import path from 'node:path';

import { pythonConstantsModule, pythonProgramSource, readPythonModule } from '../python-program';
import type { PackageManager } from './package-set';

/** The exit status of the build program when a package manager failed, by manager. */
export const PACKAGE_MANAGER_EXIT_STATUS: Record<PackageManager, number> = { apt: 11, pip: 12, npm: 13 };

/** What the build program reads from its one argument (JSON). */
export interface PackageBuildSpec {
  apt: string[];
  pip: string[];
  npm: string[];
  /** A CA bundle in the build container for pip and npm (https registries behind a private CA), or `null`. */
  caBundle: string | null;
}

/**
 * The Python program that installs a package set as root in a build container (python3 is in every Keel sandbox image),
 * `python/keel_package_build.py` with its constants: it runs apt, pip and npm with argument lists, never a shell,
 * prints each command, merges the managers' output into stdout, exits with `PACKAGE_MANAGER_EXIT_STATUS` of the first
 * manager that fails, and leaves no apt lists or caches behind in the image. Its one argument is the
 * `PackageBuildSpec` as JSON.
 */
export const PACKAGE_BUILD_PROGRAM = pythonProgramSource([
  pythonConstantsModule({ PACKAGE_MANAGER_EXIT_STATUS }),
  readPythonModule(path.join(__dirname, 'python'), 'keel_package_build'),
]);
