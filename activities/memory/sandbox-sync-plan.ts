import { randomBytes } from 'node:crypto';
import { decideMemoryWrite, planMemorySync } from '../../common/memory';
import type { MemoryFile, StoredMemory, StoredMemoryVersion } from '../../common/memory';

/** One row change of a sandbox sync: a memory inserted, updated or deleted (`memory` `null`), and its new version. */
export interface MemoryRowChange {
  kind: 'insert' | 'update' | 'delete';
  memory: StoredMemory | null;
  version: StoredMemoryVersion;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new id with the hosted prefix (`mem_`, `memver_`) and 24 random base62 characters, as the server makes them. */
export function newMemoryId(prefix: 'mem_' | 'memver_'): string {
  let suffix = '';
  while (suffix.length < 24) {
    for (const byte of randomBytes(48)) {
      if (byte < 248 && suffix.length < 24) suffix += ALPHABET.charAt(byte % ALPHABET.length);
    }
  }
  return `${prefix}${suffix}`;
}

/**
 * The row changes that make a store's memories (`stored`, with content) equal `files`, each a version written by the
 * session at `at`: deletions first, so a file that became a directory (or the reverse) never overlaps itself.
 */
export function sandboxSyncChanges(
  storeId: string,
  sessionId: string,
  stored: readonly StoredMemory[],
  files: readonly MemoryFile[],
  at: string,
  touched?: ReadonlySet<string>,
): MemoryRowChange[] {
  const byId = new Map(stored.map((memory) => [memory.id, memory]));
  const writes = planMemorySync(stored, files, () => newMemoryId('mem_'), touched);
  const ordered = [
    ...writes.filter((write) => write.op === 'delete'),
    ...writes.filter((write) => write.op !== 'delete'),
  ];
  const changes: MemoryRowChange[] = [];
  for (const write of ordered) {
    const current = write.op === 'create' ? null : (byId.get(write.memoryId) ?? null);
    const decision = decideMemoryWrite(storeId, current, write, {
      versionId: newMemoryId('memver_'),
      at,
      actor: { type: 'session_actor', session_id: sessionId },
    });
    if (decision.kind !== 'write') continue;
    const kind = write.op === 'create' ? 'insert' : decision.memory === null ? 'delete' : 'update';
    changes.push({ kind, memory: decision.memory, version: decision.version });
  }
  return changes;
}

/** The counts of a sync's changes, as `MemorySyncResult` reports them. */
export function syncCounts(changes: readonly MemoryRowChange[]): {
  created: number;
  modified: number;
  deleted: number;
} {
  const count = (kind: MemoryRowChange['kind']): number => changes.filter((change) => change.kind === kind).length;
  return { created: count('insert'), modified: count('update'), deleted: count('delete') };
}
