import type { BlobStore } from './blob-store';
import type { LoggedEvent, SessionEvent } from './events';

/**
 * The text bodies a session's log keeps in the blob store (`LoggedEvent.contentKey`, see `StoredBodyRef`), read pure
 * over the `BlobStore` interface: the server fills them into every event a client sees, and the `gradeOutcome`
 * Activity into the tool results its grader reads.
 */

/** Makes the error a reader throws when a stored body is missing or misplaced. */
export type StoredBodyFailure = (message: string) => Error;

const plainError: StoredBodyFailure = (message) => new Error(message);
const decoder = new TextDecoder('utf-8');

/** Whether any of `entries` has its text body in the blob store (a `contentKey`). */
export function hasStoredBodies(entries: readonly LoggedEvent[]): boolean {
  return entries.some((entry) => entry.contentKey !== undefined);
}

/** `event` with `text` as its whole content; only tool results keep their bodies in the blob store. */
export function withStoredText(event: SessionEvent, text: string, fail: StoredBodyFailure = plainError): SessionEvent {
  switch (event.type) {
    case 'agent.tool_result':
    case 'agent.mcp_tool_result':
      return { ...event, content: [{ type: 'text', text }] };
    default:
      throw fail(
        `Event ${event.id} (${event.type}) has a contentKey, but only agent.tool_result and agent.mcp_tool_result may.`,
      );
  }
}

/** The UTF-8 text stored under `key`; a missing body fails naming the event (`entry`) and the key. */
export async function readStoredText(
  blobs: BlobStore,
  key: string,
  entry: LoggedEvent | null,
  fail: StoredBodyFailure = plainError,
): Promise<{ text: string; bytes: number }> {
  const body = await blobs.get(key);
  if (body === null) {
    const owner =
      entry === null ? 'A tool output' : `The content of event ${entry.event.id} (position ${entry.position})`;
    throw fail(
      `${owner} is stored under blob key ${key}, which the blob store does not have: the server and the workers ` +
        'must share one blob store.',
    );
  }
  return { text: decoder.decode(body), bytes: body.byteLength };
}

/** The texts stored under `keys`, by key (each read once). */
export async function readStoredTexts(
  blobs: BlobStore,
  keys: Iterable<string>,
  fail: StoredBodyFailure = plainError,
): Promise<Map<string, string>> {
  const unique = [...new Set(keys)];
  const texts = await Promise.all(unique.map(async (key) => (await readStoredText(blobs, key, null, fail)).text));
  return new Map(unique.map((key, index) => [key, texts[index] ?? '']));
}
