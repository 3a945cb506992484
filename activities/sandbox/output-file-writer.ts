import type Docker from 'dockerode';

import type { OutputFileOutcome, OutputFileTarget } from './output-file';
import { outputFileTruncationNote } from './output-file';
import { MAX_SAVED_OUTPUT_FILES } from './sandbox-constants';
import { startExec } from './start-exec';
import type { StartedExec } from './start-exec';
import { Waits } from './waits';

/** What an `OutputFileWriter` saves: a run's stdout, once it grows past `afterBytes`, to `target` in the container. */
export interface OutputFileWriterRequest {
  docker: Docker;
  containerId: string;
  target: OutputFileTarget;
  /** The output is saved only when it grows past this many bytes (the cap of what the model sees). */
  afterBytes: number;
}

/** How long the writer may take to flush and close the file once the run is over. */
const FINISH_TIMEOUT_MS = 30_000;
/** The longest error text reported from the writer. */
const MAX_ERROR_CHARACTERS = 200;

// Makes the folder, removes the oldest saved outputs beyond the limit (unless the folder is reached through a symbolic
// link, which could point at the model's own files), replaces the file and copies stdin into it; a failed copy (a full
// volume) removes the partial file. A name with a newline is beyond this pruning, which is fine.
const WRITER_SCRIPT = `
path=$1
directory=\${path%/*}
mkdir -p -- "$directory" || exit 1
if [ "$(cd -P -- "$directory" && pwd)" = "$directory" ]; then
  find "$directory" -maxdepth 1 -type f -printf '%T@ %f\\n' 2>/dev/null | sort -rn | tail -n +${MAX_SAVED_OUTPUT_FILES} |
    cut -d' ' -f2- | while IFS= read -r name; do rm -f -- "$directory/$name"; done
fi
rm -f -- "$path"
if ! cat > "$path"; then rm -f -- "$path"; exit 1; fi
`;

type Writer = { kind: 'started'; exec: StartedExec; errorOutput: Buffer[] } | { kind: 'failed'; error: string };

/**
 * Saves a run's whole stdout in the container for the per-call path (the persistent runner saves it itself): it keeps
 * the first `afterBytes` bytes, and once the output grows past them starts a second exec that writes the file and
 * streams every byte to it, up to `target.maxBytes` then a truncation note. Bytes in flight to that exec are the only
 * ones it holds beyond the first `afterBytes`.
 */
export class OutputFileWriter {
  readonly #request: OutputFileWriterRequest;
  #pending: Buffer[] = [];
  #totalBytes = 0;
  #savedBytes = 0;
  #writer: Promise<Writer> | undefined;

  constructor(request: OutputFileWriterRequest) {
    this.#request = request;
  }

  /** Adds a chunk of the run's stdout. */
  push(chunk: Buffer): void {
    this.#totalBytes += chunk.length;
    if (this.#writer) {
      this.#save(chunk);
      return;
    }
    this.#pending.push(chunk);
    if (this.#totalBytes <= this.#request.afterBytes) return;
    this.#writer = this.#start();
    this.#save(Buffer.concat(this.#pending.splice(0)));
  }

  /**
   * Ends the file once the run is over and says what became of it; `undefined` when the output stayed within
   * `afterBytes`, so no file was written.
   */
  async finish(): Promise<OutputFileOutcome | undefined> {
    if (!this.#writer) return undefined;
    const { path } = this.#request.target;
    const savedBytes = this.#savedBytes;
    if (this.#totalBytes > savedBytes) this.#send(Buffer.from(outputFileTruncationNote(this.#totalBytes - savedBytes)));
    const writer = await this.#writer;
    if (writer.kind === 'failed') return { kind: 'failed', path, error: writer.error };
    writer.exec.endInput();
    const waits = new Waits();
    try {
      const ended = await Promise.race([
        writer.exec.ended.then(() => true),
        waits.delay(FINISH_TIMEOUT_MS).then(() => false),
      ]);
      if (!ended) return { kind: 'failed', path, error: 'timed out' };
    } finally {
      waits.clear();
      writer.exec.close();
    }
    const exitCode = await writer.exec.exec.inspect().then(
      (info) => info.ExitCode ?? undefined,
      () => undefined,
    );
    if (exitCode === 0) return { kind: 'saved', path, savedBytes, totalBytes: this.#totalBytes };
    return { kind: 'failed', path, error: errorOf(Buffer.concat(writer.errorOutput), exitCode) };
  }

  /** Drops the writer's connection (after `finish`, or when the run is abandoned). */
  close(): void {
    void this.#writer?.then((writer) => writer.kind === 'started' && writer.exec.close());
  }

  #save(data: Buffer): void {
    const room = this.#request.target.maxBytes - this.#savedBytes;
    if (room <= 0) return;
    const part = data.subarray(0, room);
    this.#savedBytes += part.length;
    this.#send(part);
  }

  /** Queues `data` for the writer; reactions to one promise run in order, so the bytes arrive in order. */
  #send(data: Buffer): void {
    void this.#writer?.then((writer) => writer.kind === 'started' && writer.exec.write(data));
  }

  async #start(): Promise<Writer> {
    const errorOutput: Buffer[] = [];
    try {
      const exec = await startExec({
        docker: this.#request.docker,
        containerId: this.#request.containerId,
        argv: ['bash', '--noprofile', '--norc', '-c', WRITER_SCRIPT, 'keel-save-output', this.#request.target.path],
        keepStdinOpen: true,
        onOutput: (stream, data) => {
          if (stream === 'stderr') errorOutput.push(data);
        },
      });
      return { kind: 'started', exec, errorOutput };
    } catch (error) {
      return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
  }
}

/** The reason in the writer's last error line (`cat: write error: No space left on device` gives the part after it). */
function errorOf(errorOutput: Buffer, exitCode: number | undefined): string {
  const lastLine = errorOutput.toString('utf8').trim().split('\n').pop() ?? '';
  const reason = lastLine.slice(lastLine.lastIndexOf(': ') + 1).trim() || lastLine;
  if (reason) return reason.slice(0, MAX_ERROR_CHARACTERS);
  return exitCode === undefined ? 'the writer ended without a status' : `exit status ${exitCode}`;
}
