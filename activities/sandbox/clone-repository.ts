import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { CloneRepositoryInput, CloneRepositoryResult, RepositoryFailure } from '../../common/repository-clone';
import { checkRepositoryUrl } from '../../common/repository-url';
import { classifyGitFailure } from './classify-git-failure';
import { copyDirectoryIntoContainer } from './copy-directory-into-container';
import { provisionSandbox } from './provision-sandbox';
import { runHostCommand } from './run-host-command';
import { runInContainer } from './run-in-container';
import { SANDBOX_WORKDIR } from './sandbox-constants';
import type { RepositoryCloneOptions, SandboxOptions } from './sandbox-options';

/** How long a clone (and a checkout) may take when the options name no limit. */
export const DEFAULT_CLONE_TIMEOUT_MS = 10 * 60_000;
/** How long each of the small commands in the container may take. */
const CONTAINER_STEP_TIMEOUT_MS = 60_000;
/** Where a clone is extracted in the container before it is moved to its mount path (same volume: a rename). */
const STAGING_DIR = `${SANDBOX_WORKDIR}/.keel/clones`;
/** Exit statuses of the container scripts. */
const ALREADY_CLONED = 10;
const TARGET_TAKEN = 11;

// Stops when the clone is there; else removes what an earlier attempt left in the staging folder.
const PREPARE_SCRIPT = `
[ -e "$1/.git" ] && exit ${ALREADY_CLONED}
rm -rf -- "$2"
`;
// Makes the staging folder the archive is extracted into.
const STAGE_SCRIPT = `mkdir -p -- "$2"`;
// Moves the staged clone to its mount path, which may be missing or an empty folder, never one that holds files.
const FINISH_SCRIPT = `
mkdir -p -- "$(dirname -- "$1")" || exit 1
if [ -e "$1" ] || [ -L "$1" ]; then
  rmdir -- "$1" 2>/dev/null || { rm -rf -- "$2"; exit ${TARGET_TAKEN}; }
fi
mv -T -- "$2" "$1"
`;

/**
 * Clones a `github_repository` resource into the session's sandbox, idempotently: when `<mount path>/.git` is there
 * already, nothing happens. The host's `git` clones into a temporary folder on the worker with the token (read and
 * opened here, never part of any input or result) sent only as an `Authorization` header through `GIT_CONFIG_*`
 * variables: it is in no URL, argument or `.git/config`, and the remote stays the plain URL. The tree, `.git`
 * included, is copied into the container owned by the sandbox user, then the temporary folder is removed. A failure
 * (refused credentials, a missing branch, an unreachable host) is a result whose message never carries the token.
 */
export async function cloneRepository(
  options: SandboxOptions,
  input: CloneRepositoryInput,
  signal?: AbortSignal,
): Promise<CloneRepositoryResult> {
  const repositories = options.repositories;
  if (repositories === undefined) return failed('This worker was started without repository cloning.');
  const check = checkRepositoryUrl(input.url, repositories.hosts);
  if (!check.ok) return failed(`${input.url} is not a repository this worker clones: ${check.problem}.`);
  const { containerId } = await provisionSandbox(
    options,
    { sessionId: input.sessionId, files: input.files ?? [], environment: input.environment },
    signal,
  );
  const staging = `${STAGING_DIR}/${input.resourceId}`;
  const inContainer = (script: string): ReturnType<typeof runInContainer> =>
    runInContainer({
      docker: options.docker,
      containerId,
      argv: ['bash', '--noprofile', '--norc', '-c', script, 'keel-clone', input.mountPath, staging],
      timeoutMs: CONTAINER_STEP_TIMEOUT_MS,
      maxOutputBytes: 4_096,
      ...(signal === undefined ? {} : { signal }),
    });
  const prepared = await inContainer(PREPARE_SCRIPT);
  if (prepared.exitCode === ALREADY_CLONED) return { ok: true, cloned: false };
  if (prepared.exitCode !== 0) return failed(`The sandbox could not make room for the clone: ${prepared.errorOutput}`);

  let token: string | null;
  try {
    token = await repositories.tokens.repositoryToken(input.sessionId, input.resourceId);
  } catch (error) {
    // The reasons (no store, a key that does not open the token) never carry the token itself.
    return failed(`The repository token could not be read on the worker: ${(error as Error).message}`);
  }
  const scratch = await mkdtemp(path.join(repositories.temporaryDir ?? tmpdir(), 'keel-clone-'));
  try {
    const clone = path.join(scratch, 'repository');
    const failure = await cloneOnHost(repositories, input, clone, scratch, token, signal);
    if (failure !== null) return { ok: false, error: failure };
    const staged = await inContainer(STAGE_SCRIPT);
    if (staged.exitCode !== 0) return failed(`The sandbox could not make room for the clone: ${staged.errorOutput}`);
    await copyDirectoryIntoContainer({
      docker: options.docker,
      containerId,
      directory: clone,
      containerPath: staging,
      searchPath: repositories.searchPath,
      ...(signal === undefined ? {} : { signal }),
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const finished = await inContainer(FINISH_SCRIPT);
  if (finished.exitCode === TARGET_TAKEN) {
    return failed(`${input.mountPath} already holds files in the sandbox, so the repository was not cloned there.`);
  }
  if (finished.exitCode !== 0) return failed(`The clone could not be moved into place: ${finished.errorOutput}`);
  return { ok: true, cloned: true };
}

/** Clones (the branch, when one is named) and checks out the commit, when one is named; the failure, or `null`. */
async function cloneOnHost(
  repositories: RepositoryCloneOptions,
  input: CloneRepositoryInput,
  clone: string,
  scratch: string,
  token: string | null,
  signal: AbortSignal | undefined,
): Promise<RepositoryFailure | null> {
  const home = path.join(scratch, 'home');
  await mkdir(home);
  const header = token === null ? null : `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  const env: Record<string, string> = {
    PATH: repositories.searchPath,
    HOME: home,
    LC_ALL: 'C',
    // No prompt, no system or user configuration (a credential helper there must not see the host or answer).
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    ...(header === null
      ? {}
      : {
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'http.extraHeader',
          GIT_CONFIG_VALUE_0: `Authorization: ${header}`,
        }),
  };
  const secrets = token === null || header === null ? [] : [token, header, header.slice('Basic '.length)];
  const timeoutMs = repositories.timeoutMs ?? DEFAULT_CLONE_TIMEOUT_MS;
  const { checkout } = input;
  const branch = checkout?.type === 'branch' ? ['--branch', checkout.name] : [];
  const cloned = await runHostCommand({
    command: 'git',
    args: ['clone', '--quiet', '--no-recurse-submodules', ...branch, '--', input.url, clone],
    env,
    timeoutMs,
    ...(signal === undefined ? {} : { signal }),
  });
  if (cloned.exitCode !== 0) {
    return classifyGitFailure({ stage: 'clone', url: input.url, ...cloned, secrets });
  }
  if (checkout?.type !== 'commit') return null;
  const checkedOut = await runHostCommand({
    command: 'git',
    args: ['-C', clone, 'checkout', '--quiet', '--detach', checkout.sha, '--'],
    env,
    timeoutMs,
    ...(signal === undefined ? {} : { signal }),
  });
  if (checkedOut.exitCode === 0) return null;
  return classifyGitFailure({ stage: 'checkout', url: input.url, ...checkedOut, secrets });
}

function failed(message: string): CloneRepositoryResult {
  return { ok: false, error: { type: 'repository_clone_error', message } };
}
