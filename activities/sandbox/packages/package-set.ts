import { createHash } from 'node:crypto';

import type { SandboxPackages } from '../../../common/sandbox';

/** The repository of the images Keel derives from the sandbox image with an environment's packages installed. */
export const PACKAGE_IMAGE_REPOSITORY = 'keel-sandbox-pkgs';

/** On a derived image (and so on the session containers it runs): the package set's hash. */
export const PACKAGE_SET_LABEL = 'dev.keel.packages';

/** The package managers Keel installs with, in the order it runs them. */
export const PACKAGE_MANAGERS = ['apt', 'pip', 'npm'] as const;

/** One of `PACKAGE_MANAGERS`. */
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

/** `packages` with each list trimmed, without empty or repeated entries, and sorted: one set, one spelling. */
export function normalizedPackages(packages: SandboxPackages | undefined): SandboxPackages {
  const clean = (list: string[] | undefined): string[] =>
    [...new Set((list ?? []).map((name) => name.trim()).filter((name) => name.length > 0))].sort();
  return { apt: clean(packages?.apt), pip: clean(packages?.pip), npm: clean(packages?.npm) };
}

/** Whether any list names a package. */
export function hasPackages(packages: SandboxPackages): boolean {
  return PACKAGE_MANAGERS.some((manager) => packages[manager].length > 0);
}

/**
 * Why a package name cannot be handed to its manager, or `undefined` when all can: a name starting with `-` would be
 * read as an option, and a control character has no place in one. Names reach the managers as separate arguments,
 * never through a shell.
 */
export function invalidPackageName(packages: SandboxPackages): string | undefined {
  for (const manager of PACKAGE_MANAGERS) {
    for (const name of packages[manager]) {
      // eslint-disable-next-line no-control-regex
      if (name.startsWith('-') || /[\u0000-\u001f\u007f]/.test(name)) {
        return `${manager} package ${JSON.stringify(name)} is not a package name`;
      }
    }
  }
  return undefined;
}

/**
 * The tag of the image with `packages` installed on the base image `baseImageId`: a hash of both, so the same lists
 * on the same base share one image, and a rebuilt base image gets new ones.
 */
export function packageImageTag(baseImageId: string, packages: SandboxPackages): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ base: baseImageId, ...normalizedPackages(packages) }))
    .digest('hex')
    .slice(0, 16);
  return `${PACKAGE_IMAGE_REPOSITORY}:${hash}`;
}
