/**
 * Where a run saves its whole stdout once it grows past the run's `maxOutputBytes`, so the model, which sees only the
 * head and the tail, can read the rest with its next tool calls.
 */
export interface OutputFileTarget {
  /** Absolute path in the container, in `SANDBOX_TOOL_OUTPUT_DIR`; a file already there is replaced. */
  path: string;
  /** Bytes of output saved at most; what goes beyond is left out and a note at the end of the file says how much. */
  maxBytes: number;
}

/** What became of a saved output: how many bytes of output the file holds (of how many), or why it is not there. */
export type OutputFileOutcome =
  | { kind: 'saved'; path: string; savedBytes: number; totalBytes: number }
  | { kind: 'failed'; path: string; error: string };

/** The note of the cut marker that tells the model where the whole output is (or why it could not be saved). */
export function outputFileNote(outcome: OutputFileOutcome): string {
  if (outcome.kind === 'failed') return `saving the whole output to ${outcome.path} failed: ${outcome.error}`;
  if (outcome.savedBytes >= outcome.totalBytes) return `the whole output is in ${outcome.path}`;
  return `the first ${outcome.savedBytes} bytes of the output are in ${outcome.path}`;
}

/**
 * The line appended to a saved output that reached `OutputFileTarget.maxBytes`, as a `%d` template (the bytes left out)
 * that the runner's Python fills in too, so both paths write the same file.
 */
export const OUTPUT_FILE_TRUNCATION_NOTE = '\n[... %d more bytes of output were not saved ...]\n';

/** `OUTPUT_FILE_TRUNCATION_NOTE` for `unsavedBytes`. */
export function outputFileTruncationNote(unsavedBytes: number): string {
  return OUTPUT_FILE_TRUNCATION_NOTE.replace('%d', String(unsavedBytes));
}
