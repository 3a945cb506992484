import type Docker from 'dockerode';

import { ContainerStoppedError } from './container-stopped-error';
import { describeStoppedContainer } from './describe-stopped-container';
import { dockerStatusCode } from './docker-status-code';
import { DockerStreamDemuxer } from './docker-stream-demuxer';
import type { DockerStreamName } from './docker-stream-demuxer';
import { SANDBOX_USER, SANDBOX_WORKDIR } from './sandbox-constants';

/** What `startExec` runs: an argv in a container as the sandbox user, with its stdin and an output callback. */
export interface StartExecRequest {
  docker: Docker;
  containerId: string;
  argv: string[];
  /** Written to the process's stdin, which is then closed (the process reads EOF after it). */
  stdin?: string;
  /** Leaves stdin open for `StartedExec.write` instead (a long-lived process that reads requests). */
  keepStdinOpen?: boolean;
  onOutput(stream: DockerStreamName, data: Buffer): void;
}

/** A started Docker exec: `ended` settles when its stream closes; `close` drops the connection early. */
export interface StartedExec {
  exec: Docker.Exec;
  ended: Promise<void>;
  close(): void;
  /** Writes to the process's stdin (with `keepStdinOpen`). */
  write(data: string | Buffer): void;
  /** Closes the process's stdin (with `keepStdinOpen`), once everything was written: the process then reads EOF. */
  endInput(): void;
  /** Whether the open connection keeps the worker's event loop alive: only while someone waits for an answer. */
  holdEventLoop(hold: boolean): void;
}

/**
 * Starts one Docker exec (uid 1000, cwd `/workspace`, no TTY) over a hijacked connection and demultiplexes its output.
 * A container that is gone or not running raises `ContainerStoppedError`, so callers can report it as a tool error.
 */
export async function startExec(request: StartExecRequest): Promise<StartedExec> {
  const container = request.docker.getContainer(request.containerId);
  let exec: Docker.Exec;
  let stream: NodeJS.ReadWriteStream & { destroy(): void; ref?: () => void; unref?: () => void };
  try {
    exec = await container.exec({
      Cmd: request.argv,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      User: SANDBOX_USER,
      WorkingDir: SANDBOX_WORKDIR,
    });
    stream = await exec.start({ hijack: true, stdin: true });
  } catch (error) {
    const status = dockerStatusCode(error);
    if (status !== 404 && status !== 409) throw error;
    const detail = await describeStoppedContainer(request.docker, request.containerId).catch(() => undefined);
    throw new ContainerStoppedError(detail ?? (error instanceof Error ? error.message : String(error)));
  }
  const demuxer = new DockerStreamDemuxer();
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      for (const frame of demuxer.push(chunk)) request.onOutput(frame.stream, frame.data);
    });
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    // `on`, not `once`: a write to a connection that is going away may raise a second error.
    stream.on('error', () => resolve());
  });
  if (!request.keepStdinOpen) stream.end(request.stdin ?? '');
  return {
    exec,
    ended,
    close: () => stream.destroy(),
    write: (data) => void stream.write(data),
    endInput: () => void stream.end(),
    holdEventLoop: (hold) => (hold ? stream.ref?.() : stream.unref?.()),
  };
}
