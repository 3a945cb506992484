import { spawn } from 'node:child_process';

import type Docker from 'dockerode';

import { cancellationOf } from './cancellation-of';
import { SANDBOX_USER } from './sandbox-constants';

/** What `copyDirectoryIntoContainer` copies, and where to. */
export interface CopyDirectoryRequest {
  docker: Docker;
  containerId: string;
  /** A folder on the worker's host; everything in it is copied, hidden files included. */
  directory: string;
  /** An existing folder in the container (on its workspace volume, since the root file system is read-only). */
  containerPath: string;
  /** The executable search path where the worker finds `tar`. */
  searchPath: string;
  signal?: AbortSignal;
}

/**
 * Copies a host folder into a running container: the host's `tar` writes the archive (every entry owned by the
 * sandbox user, so the agent can change what it gets) and Docker's archive API extracts it, streaming, with no shell
 * and nothing in the container's process list.
 */
export async function copyDirectoryIntoContainer(request: CopyDirectoryRequest): Promise<void> {
  const [owner = '1000', group = '1000'] = SANDBOX_USER.split(':');
  const tar = spawn(
    'tar',
    ['-C', request.directory, `--owner=${owner}`, `--group=${group}`, '--numeric-owner', '-cf', '-', '.'],
    {
      env: { PATH: request.searchPath, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    },
  );
  const errors: Buffer[] = [];
  tar.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const exited = new Promise<number | null>((resolve) => {
    tar.once('error', () => resolve(null));
    tar.once('close', (code) => resolve(code));
  });
  try {
    await request.docker.getContainer(request.containerId).putArchive(tar.stdout, { path: request.containerPath });
  } catch (error) {
    tar.kill('SIGKILL');
    await exited;
    throw request.signal?.aborted ? cancellationOf(request.signal) : error;
  }
  const exitCode = await exited;
  if (request.signal?.aborted) throw cancellationOf(request.signal);
  if (exitCode !== 0) {
    const detail = Buffer.concat(errors).toString('utf8').trim().slice(-500);
    throw new Error(`tar of the clone failed (exit ${String(exitCode)}): ${detail}`);
  }
}
