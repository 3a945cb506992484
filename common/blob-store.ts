/**
 * A durable store of immutable bodies by key, shared by every worker and server of one Keel: the conversation the
 * model sees (segments and tool outputs), archived event pages and other bodies that must not live in Temporal
 * history. Keys are written once and never change, so readers may cache them forever. The folder in `KEEL_DATA_DIR`
 * is the embedded default (`storage/folder-blob-store.ts`); an object store implements the same interface.
 */
export interface BlobStore {
  /** Stores `body` under `key`; writing a key that exists is a no-op (bodies under one key are identical). */
  put(key: string, body: Uint8Array): Promise<void>;
  /** The body stored under `key`, or `null` when there is none. */
  get(key: string): Promise<Uint8Array | null>;
  /** Stores the file at `sourcePath` under `key`, streamed (uploaded files can be large). */
  putFile(key: string, sourcePath: string): Promise<void>;
  /**
   * Writes the body under `key` to `targetPath`, streamed, under a temporary name renamed at the end (a reader never
   * sees half a file); resolves to `false`, writing nothing, when there is no such key.
   */
  getFile(key: string, targetPath: string): Promise<boolean>;
  /** Removes `key` (a missing key is no error). Only uploaded files' content is ever deleted (`files/`). */
  delete(key: string): Promise<void>;
  /** Releases what the store holds (an object store's connections); it is not used after. */
  close?(): void;
}

/** Key prefixes of the blob store, one per kind of body. */
export const BLOB_PREFIXES = {
  /** A tool's whole output text, by SHA-256 of its UTF-8 bytes. */
  toolOutput: 'tool-output/',
  /** A session's system prompt, by SHA-256 of its UTF-8 bytes. */
  system: 'system/',
  /** A conversation segment (JSON), by SHA-256 of its bytes. */
  conversation: 'conversation/',
  /** An immutable page of a session's events, written when a run continues-as-new: `events/<session>/<first>-<hash>`. */
  events: 'events/',
  /** A Temporal payload kept out of the history (External Storage), by SHA-256 of its JSON: `worker/payload-store.ts`. */
  payloads: 'payloads/',
  /** An uploaded file's content, by file id (`files/file_…`), with a server's and a worker's local copy as caches. */
  files: 'files/',
} as const;

/** Blob keys: lower-case letters, digits, `_`, `-`, `.` and `/` between non-empty parts. */
export const BLOB_KEY_PATTERN = /^[a-z0-9_-]+(\/[a-zA-Z0-9_.-]+)+$/;
