import type { BetaManagedAgentsMemory } from '@anthropic-ai/sdk/resources/beta/memory-stores/memories';
import type { BetaManagedAgentsMemoryStore } from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores';
import type { BetaManagedAgentsMemoryVersion } from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-versions';
import type { StoredMemory, StoredMemoryVersion } from '../../common/memory';
import type { StoredMemoryStore, StoredMemorySummary } from '../store/memory-store-repository';

/** The memory store object of the hosted API (`BetaManagedAgentsMemoryStore`) for a stored store. */
export function toMemoryStoreView(store: StoredMemoryStore): BetaManagedAgentsMemoryStore {
  return {
    id: store.id,
    type: 'memory_store',
    name: store.name,
    description: store.description,
    metadata: store.metadata,
    created_at: store.createdAt,
    updated_at: store.updatedAt,
    archived_at: store.archivedAt,
  };
}

/** The memory object (`BetaManagedAgentsMemory`); `content` is `null` unless the memory read carries it (`full`). */
export function toMemoryView(memory: StoredMemorySummary | StoredMemory, full: boolean): BetaManagedAgentsMemory {
  return {
    id: memory.id,
    type: 'memory',
    memory_store_id: memory.memoryStoreId,
    path: memory.path,
    content: full && 'content' in memory ? memory.content : null,
    content_sha256: memory.contentSha256,
    content_size_bytes: memory.contentSizeBytes,
    memory_version_id: memory.memoryVersionId,
    created_at: memory.createdAt,
    updated_at: memory.updatedAt,
  };
}

/** The version object (`BetaManagedAgentsMemoryVersion`); `content` is `null` unless `full`. */
export function toMemoryVersionView(version: StoredMemoryVersion, full: boolean): BetaManagedAgentsMemoryVersion {
  return {
    id: version.id,
    type: 'memory_version',
    memory_store_id: version.memoryStoreId,
    memory_id: version.memoryId,
    operation: version.operation,
    path: version.path,
    content: full ? version.content : null,
    content_sha256: version.contentSha256,
    content_size_bytes: version.contentSizeBytes,
    created_at: version.createdAt,
    // The SDK types the actors as optional objects; the hosted API sends `null` when there is none.
    created_by: version.createdBy as BetaManagedAgentsMemoryVersion['created_by'],
    redacted_at: version.redactedAt,
    redacted_by: version.redactedBy as BetaManagedAgentsMemoryVersion['redacted_by'],
  };
}
