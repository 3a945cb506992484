import type { FileToolName } from '../tools/python-helper-program';

/** A request to the persistent runner, written as one line of JSON to its stdin (see `python/keel_runner.py`). */
export type RunnerRequest =
  | {
      id: string;
      kind: 'command';
      argv: string[];
      stdinBase64?: string;
      timeoutMs: number;
      /** The bash tool's shell-state file, which the runner moves into place after the command (no `mv` process). */
      stateFile?: string;
      /**
       * The argv of a persistent shell (`ToolRunRequest.shell`) that may run the command read from stdin instead of
       * `argv`, in one process kept between calls (see `python/keel_shell.py`).
       */
      shell?: string[];
      /**
       * Saves the command's whole stdout to `path` (up to `maxBytes`, then a truncation note) once it grows past
       * `afterBytes`; the `exit` frame then says what became of the file.
       */
      outputFile?: { path: string; afterBytes: number; maxBytes: number };
      /**
       * The idempotency key (the model's tool-use id): the runner records the call under it and answers a second
       * request with the same key from the record instead of running the command again (see `python/keel_call_records.py`).
       */
      key?: string;
      /** With `key`: how much of stdout the record keeps, head and tail, as the worker caps it. */
      keepBytes?: number;
      /** With `key`: how much of stderr the record keeps, head and tail. */
      keepErrorBytes?: number;
    }
  | { id: string; kind: 'file'; op: FileToolName; fields: Record<string, string>; key?: string }
  | { id: string; kind: 'kill' };

/**
 * How a keyed call was answered from its record rather than run: `replayed` (it had finished), `waited` (it was still
 * running, in a dead worker's runner, and this answer is its result) or `interrupted` (it started, and its runner died
 * before it ended, so no result will ever come; it is not run again).
 */
export type RunnerRecall = 'replayed' | 'waited' | 'interrupted';

/** A frame the persistent runner writes, one line of JSON on its stdout; all but `ready` answer a request's id. */
export type RunnerFrame =
  | { type: 'ready'; pid: number }
  | { type: 'started'; id: string; pid: number }
  | { type: 'output'; id: string; stream: 'stdout' | 'stderr'; dataBase64: string }
  /** A recorded call's output, as kept: the head and the tail of a stream of `totalBytes` bytes. */
  | {
      type: 'recorded';
      id: string;
      stream: 'stdout' | 'stderr';
      headBase64: string;
      tailBase64: string;
      totalBytes: number;
    }
  | {
      type: 'exit';
      id: string;
      status: number;
      timedOut: boolean;
      /** With `outputFile`, when the output grew past `afterBytes`: the bytes of output the file holds. */
      outputFileBytes?: number;
      /** With `outputFile`, when the file could not be written: why (`No space left on device`). */
      outputFileError?: string;
      /** How many processes the command left running, which the runner killed once it ended. */
      leftovers?: number;
      /** Whether the container's pids limit refused a new process while the command ran (a fork bomb). */
      pidsLimitHit?: boolean;
      /** Set when the answer comes from the call's record (see `RunnerRecall`). */
      recall?: RunnerRecall;
    }
  | { type: 'result'; id: string; status: number; dataBase64: string; recall?: RunnerRecall }
  | { type: 'killing'; id: string; found: boolean }
  | { type: 'error'; id: string; message: string };

/** Parses one line of the runner's stdout; anything that is not a well-formed frame gives `undefined`. */
export function parseRunnerFrame(line: string): RunnerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || !('type' in value)) return undefined;
  const frame: Record<string, unknown> = { ...value };
  const has = (name: string, type: 'string' | 'number' | 'boolean'): boolean => typeof frame[name] === type;
  const hasOptional = (name: string, type: 'string' | 'number'): boolean =>
    frame[name] === undefined || has(name, type);
  const hasId = has('id', 'string');
  const hasRecall =
    frame.recall === undefined ||
    frame.recall === 'replayed' ||
    frame.recall === 'waited' ||
    frame.recall === 'interrupted';
  switch (frame.type) {
    case 'ready':
      return has('pid', 'number') ? (frame as RunnerFrame) : undefined;
    case 'started':
      return hasId && has('pid', 'number') ? (frame as RunnerFrame) : undefined;
    case 'output':
      return hasId && (frame.stream === 'stdout' || frame.stream === 'stderr') && has('dataBase64', 'string')
        ? (frame as RunnerFrame)
        : undefined;
    case 'recorded':
      return hasId &&
        (frame.stream === 'stdout' || frame.stream === 'stderr') &&
        has('headBase64', 'string') &&
        has('tailBase64', 'string') &&
        has('totalBytes', 'number')
        ? (frame as RunnerFrame)
        : undefined;
    case 'exit':
      return hasId &&
        has('status', 'number') &&
        has('timedOut', 'boolean') &&
        hasOptional('outputFileBytes', 'number') &&
        hasOptional('outputFileError', 'string') &&
        hasOptional('leftovers', 'number') &&
        (frame.pidsLimitHit === undefined || has('pidsLimitHit', 'boolean')) &&
        hasRecall
        ? (frame as RunnerFrame)
        : undefined;
    case 'result':
      return hasId && has('status', 'number') && has('dataBase64', 'string') && hasRecall
        ? (frame as RunnerFrame)
        : undefined;
    case 'killing':
      return hasId && has('found', 'boolean') ? (frame as RunnerFrame) : undefined;
    case 'error':
      return hasId && has('message', 'string') ? (frame as RunnerFrame) : undefined;
    default:
      return undefined;
  }
}

/**
 * The longest line a reader accepts. The runner's own frames stay far below it (an output frame carries at most 64 KiB,
 * a file tool's result a few hundred KiB); anything in the container can write to the runner's stdout, so without a
 * bound one endless line could exhaust the worker's memory.
 */
const MAX_LINE_CHARACTERS = 8 * 1024 * 1024;

/** Splits the runner's stdout into lines (a chunk may end mid-line) and parses each into a frame. */
export class RunnerFrameReader {
  #pending = '';
  #overflowed = false;

  /** Whether a line exceeded `MAX_LINE_CHARACTERS`: the stream can no longer be trusted and should be closed. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Adds a chunk of stdout and returns the frames of the lines it completed; malformed lines are skipped. */
  push(chunk: Buffer): RunnerFrame[] {
    if (this.#overflowed) return [];
    // Frames are ASCII (JSON with escapes, base64), so a chunk never splits a character.
    const lines = (this.#pending + chunk.toString('latin1')).split('\n');
    this.#pending = lines.pop() ?? '';
    if (this.#pending.length > MAX_LINE_CHARACTERS) {
      this.#overflowed = true;
      this.#pending = '';
      return [];
    }
    return lines.flatMap((line) => {
      const frame = parseRunnerFrame(line);
      return frame ? [frame] : [];
    });
  }
}
