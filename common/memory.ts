import { createHash } from 'node:crypto';

/** The most UTF-8 bytes one memory's content may have (100 kB, as the hosted API documents). */
export const MAX_MEMORY_CONTENT_BYTES = 102_400;

/** The most bytes a memory's path may have, and the most segments. */
export const MAX_MEMORY_PATH_BYTES = 1_024;
export const MAX_MEMORY_PATH_SEGMENTS = 20;

/** Where a session's memory stores are mounted in its sandbox, one directory per store. */
export const MEMORY_MOUNT_ROOT = '/mnt/memory';

/** Who wrote or redacted a memory version, in the hosted API's `BetaManagedAgentsActor` shape. */
export type MemoryActor =
  | { type: 'api_actor'; api_key_id: string }
  | { type: 'session_actor'; session_id: string }
  | { type: 'user_actor'; user_id: string }
  | { type: 'service_account_actor'; service_account_id: string };

/** The kind of change a memory version records. */
export type MemoryVersionOperation = 'created' | 'modified' | 'deleted';

/** A memory as stored: a UTF-8 text at a path of a memory store, with the version that holds its content. */
export interface StoredMemory {
  /** `mem_…`; it stays when the path changes. */
  id: string;
  memoryStoreId: string;
  path: string;
  content: string;
  contentSha256: string;
  contentSizeBytes: number;
  /** The `memver_…` version that holds the current content. */
  memoryVersionId: string;
  createdAt: string;
  updatedAt: string;
}

/** One immutable version of a memory (only redaction changes it, clearing what it recorded). */
export interface StoredMemoryVersion {
  /** `memver_…`. */
  id: string;
  memoryStoreId: string;
  memoryId: string;
  operation: MemoryVersionOperation;
  /** `null` once redacted. */
  path: string | null;
  /** `null` for a `deleted` version, and once redacted. */
  content: string | null;
  contentSha256: string | null;
  contentSizeBytes: number | null;
  createdAt: string;
  createdBy: MemoryActor | null;
  redactedAt: string | null;
  redactedBy: MemoryActor | null;
}

/** A write to one memory, as the API (or a session's sandbox) asks for it; `decideMemoryWrite` applies it. */
export type MemoryWrite =
  | { op: 'create'; memoryId: string; path: string; content: string }
  | {
      op: 'update';
      memoryId: string;
      /** Absent keeps the path (a content-only update). */
      path?: string | undefined;
      /** Absent keeps the content (a rename). */
      content?: string | undefined;
      /** The update applies only while the memory's content has this hash. */
      expectedContentSha256?: string | undefined;
    }
  | { op: 'delete'; memoryId: string; expectedContentSha256?: string | undefined };

/** Who makes a write, when, and the id its version gets. */
export interface MemoryWriteContext {
  versionId: string;
  at: string;
  actor: MemoryActor | null;
}

/** What a write does to the stored rows: nothing, or the memory after (`null` once deleted) and the version it adds. */
export type MemoryWriteDecision =
  | { kind: 'refused'; reason: 'memory_not_found' | 'precondition_failed' }
  | { kind: 'unchanged'; memory: StoredMemory }
  | { kind: 'write'; memory: StoredMemory | null; version: StoredMemoryVersion };

/**
 * Decides a memory write from the memory's current row (`null` for a create, or when the memory is unknown): the
 * content-hash precondition, the hosted rule that an update which changes nothing adds no version (and succeeds even
 * when its precondition's hash differs, if the memory already has exactly the requested content and path), and the
 * rows to write. Pure, so the server's store and the worker's sandbox sync apply the same rules on both databases.
 */
export function decideMemoryWrite(
  storeId: string,
  current: StoredMemory | null,
  write: MemoryWrite,
  context: MemoryWriteContext,
): MemoryWriteDecision {
  const version = (
    memoryId: string,
    operation: MemoryVersionOperation,
    path: string,
    content: string | null,
  ): StoredMemoryVersion => ({
    id: context.versionId,
    memoryStoreId: storeId,
    memoryId,
    operation,
    path,
    content,
    contentSha256: content === null ? null : memoryContentSha256(content),
    contentSizeBytes: content === null ? null : memoryContentBytes(content),
    createdAt: context.at,
    createdBy: context.actor,
    redactedAt: null,
    redactedBy: null,
  });
  if (write.op === 'create') {
    const memory: StoredMemory = {
      id: write.memoryId,
      memoryStoreId: storeId,
      path: write.path,
      content: write.content,
      contentSha256: memoryContentSha256(write.content),
      contentSizeBytes: memoryContentBytes(write.content),
      memoryVersionId: context.versionId,
      createdAt: context.at,
      updatedAt: context.at,
    };
    return { kind: 'write', memory, version: version(memory.id, 'created', memory.path, memory.content) };
  }
  if (current === null) return { kind: 'refused', reason: 'memory_not_found' };
  if (write.op === 'delete') {
    if (write.expectedContentSha256 !== undefined && write.expectedContentSha256 !== current.contentSha256) {
      return { kind: 'refused', reason: 'precondition_failed' };
    }
    return { kind: 'write', memory: null, version: version(current.id, 'deleted', current.path, null) };
  }
  const path = write.path ?? current.path;
  const content = write.content ?? current.content;
  if (path === current.path && content === current.content) return { kind: 'unchanged', memory: current };
  if (write.expectedContentSha256 !== undefined && write.expectedContentSha256 !== current.contentSha256) {
    return { kind: 'refused', reason: 'precondition_failed' };
  }
  const memory: StoredMemory = {
    ...current,
    path,
    content,
    contentSha256: memoryContentSha256(content),
    contentSizeBytes: memoryContentBytes(content),
    memoryVersionId: context.versionId,
    updatedAt: context.at,
  };
  return { kind: 'write', memory, version: version(current.id, 'modified', path, content) };
}

/** The lowercase hex SHA-256 of a memory's UTF-8 content, as the hosted API reports `content_sha256`. */
export function memoryContentSha256(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

/** The size of a memory's content in UTF-8 bytes. */
export function memoryContentBytes(content: string): number {
  return Buffer.byteLength(content, 'utf8');
}

/**
 * What is wrong with a memory path, or `null` for a good one: it starts with `/`, has 1 to 20 segments, none empty,
 * `.` or `..`, no control or format characters nor U+2028 / U+2029, is in Unicode NFC, and is at most 1,024 bytes.
 */
export function memoryPathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'must start with /';
  if (Buffer.byteLength(path, 'utf8') > MAX_MEMORY_PATH_BYTES) return `must be at most ${MAX_MEMORY_PATH_BYTES} bytes`;
  if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(path)) return 'must not contain control or format characters';
  if (path.normalize('NFC') !== path) return 'must be in Unicode Normalization Form C';
  const segments = path.slice(1).split('/');
  if (segments.length > MAX_MEMORY_PATH_SEGMENTS) return `must have at most ${MAX_MEMORY_PATH_SEGMENTS} segments`;
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return 'segments must not be empty, . or ..';
  }
  return null;
}

/**
 * The paths that overlap `path` from above: each of its ancestors (`/a` and `/a/b` for `/a/b/c.md`), which no memory
 * may have while `path` is used, since a path cannot be both a file and a directory.
 */
export function memoryPathAncestors(path: string): string[] {
  const segments = path.slice(1).split('/');
  return segments.slice(0, -1).map((_, index) => `/${segments.slice(0, index + 1).join('/')}`);
}

/**
 * The directory of a memory store under `/mnt/memory/`, from its name as the hosted API derives it: lowercased, every
 * run of characters other than ASCII letters and digits one hyphen (Keel also trims hyphens at both ends, and names
 * a store whose name has no letter or digit `memory`).
 */
export function memoryMountDirectory(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug === '' ? 'memory' : slug;
}

/** A memory store a session's sandbox mounts: its memories are copied in, and read back after writes when writable. */
export interface SandboxMemoryMount {
  memoryStoreId: string;
  /** Absolute directory in the container (`/mnt/memory/<name>`). */
  mountPath: string;
  access: 'read_write' | 'read_only';
}

/** One file of a memory mount as the sandbox holds it: its memory path (with a leading `/`) and its UTF-8 text. */
export interface MemoryFile {
  path: string;
  content: string;
}

/**
 * The writes that bring a store from `stored` (its memories now) to `files` (what the sandbox holds under the mount):
 * a new path is created, a changed text modifies its memory, and a memory whose file is gone is deleted. Only the
 * paths in `touched` (those the agent changed since the mount was last synced) are written, when it is given, so a
 * change made through the API meanwhile is not undone. `newId` names created memories.
 */
export function planMemorySync(
  stored: ReadonlyArray<Pick<StoredMemory, 'id' | 'path' | 'content'>>,
  files: readonly MemoryFile[],
  newId: () => string,
  touched?: ReadonlySet<string>,
): MemoryWrite[] {
  const byPath = new Map(stored.map((memory) => [memory.path, memory]));
  const seen = new Set<string>();
  const writes: MemoryWrite[] = [];
  for (const file of files) {
    seen.add(file.path);
    if (touched !== undefined && !touched.has(file.path)) continue;
    const memory = byPath.get(file.path);
    if (memory === undefined) writes.push({ op: 'create', memoryId: newId(), path: file.path, content: file.content });
    else if (memory.content !== file.content) writes.push({ op: 'update', memoryId: memory.id, content: file.content });
  }
  for (const memory of stored) {
    if (seen.has(memory.path) || (touched !== undefined && !touched.has(memory.path))) continue;
    writes.push({ op: 'delete', memoryId: memory.id });
  }
  return writes;
}

/** What a sandbox sync did to one store: the versions it wrote, or why it wrote none. */
export type MemorySyncResult =
  | { kind: 'synced'; created: number; modified: number; deleted: number }
  | { kind: 'store_gone' }
  | { kind: 'store_archived' };

/**
 * The worker's access to the memory stores a session mounts (the server's control-plane store: SQLite file or
 * PostgreSQL), behind one port so the sandbox Activities work on both.
 */
export interface SessionMemoryRows {
  /** The stores the session mounts, fixed when it was created; none for a session without memory stores. */
  mountsOf(sessionId: string): Promise<SandboxMemoryMount[]>;
  /** Every memory of the store with its content (empty for a store deleted since). */
  memoriesOf(storeId: string): Promise<Array<Pick<StoredMemory, 'id' | 'path' | 'content'>>>;
  /**
   * Makes the store hold `files` (what the sandbox has under the mount) at the `touched` paths (every path when
   * absent), in one write transaction: each difference becomes a version attributed to the session
   * (`session_actor`). An archived or deleted store is left alone.
   */
  syncFromSandbox(
    storeId: string,
    sessionId: string,
    files: readonly MemoryFile[],
    touched?: ReadonlySet<string>,
  ): Promise<MemorySyncResult>;
}
