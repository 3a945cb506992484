import type {
  BetaManagedAgentsDeletedMemory,
  BetaManagedAgentsMemory,
  BetaManagedAgentsMemoryListItem,
} from '@anthropic-ai/sdk/resources/beta/memory-stores/memories';
import type { BetaManagedAgentsMemoryVersion } from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-versions';
import { MAX_MEMORY_CONTENT_BYTES, memoryContentBytes, memoryPathProblem } from '../../common/memory';
import type { MemoryActor, MemoryWrite } from '../../common/memory';
import { ApiError, invalidField } from '../api-error';
import { newResourceId, requireResourceId } from '../resource-ids';
import type { ControlPlaneStore } from '../store/control-plane-store';
import type { MemoryWriteOutcome, StoredMemorySummary } from '../store/memory-store-repository';
import { memoryStoreArchived, memoryStoreNotFound, pathConflict, preconditionFailed } from './memory-errors';
import type {
  CreateMemoryBody,
  ListMemoriesQuery,
  ListMemoryVersionsQuery,
  MemoryView,
  UpdateMemoryBody,
} from './memory-store-request-schemas';
import { toMemoryVersionView, toMemoryView } from './memory-store-view';

/** The most items a page holds when it carries content (`view=full`). */
const FULL_VIEW_PAGE_LIMIT = 20;

/** A list page in the SDK's `PageCursor` shape. */
export interface MemoryPage<Item> {
  data: Item[];
  next_page: string | null;
}

/**
 * Memories and their versions (`memoryStores.memories`, `memoryStores.memoryVersions`): every write adds one
 * immutable version attributed to its actor, in the same transaction as its checks (see `MemoryStoreRepository`).
 */
export class MemoryService {
  constructor(private readonly store: ControlPlaneStore) {}

  /** Creates a memory at a free path (409 `memory_path_conflict_error` when the path or an overlapping one is used). */
  async create(
    storeId: string,
    body: CreateMemoryBody,
    view: MemoryView,
    actor: MemoryActor,
  ): Promise<BetaManagedAgentsMemory> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    const content = checkedContent(body.content ?? '');
    const path = checkedPath(body.path, 'path');
    const write: MemoryWrite = { op: 'create', memoryId: newResourceId('memory'), path, content };
    const outcome = await this.write(storeId, write, actor, 'create memories in it');
    return toMemoryView(requireMemory(outcome), view === 'full');
  }

  /** The memory, with its content unless `view=basic`. */
  async retrieve(storeId: string, memoryId: string, view: MemoryView): Promise<BetaManagedAgentsMemory> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    requireResourceId('memory', memoryId, 'memory_id');
    const memory = await this.store.memoryStores.getMemory(storeId, memoryId);
    if (memory === null) throw await this.memoryNotFound(storeId, memoryId);
    return toMemoryView(memory, view === 'full');
  }

  /** Changes a memory's content, path or both, under an optional `content_sha256` precondition (409 when it fails). */
  async update(
    storeId: string,
    memoryId: string,
    body: UpdateMemoryBody,
    view: MemoryView,
    actor: MemoryActor,
  ): Promise<BetaManagedAgentsMemory> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    requireResourceId('memory', memoryId, 'memory_id');
    const write: MemoryWrite = {
      op: 'update',
      memoryId,
      path: body.path === null || body.path === undefined ? undefined : checkedPath(body.path, 'path'),
      content: body.content === null || body.content === undefined ? undefined : checkedContent(body.content),
      expectedContentSha256: body.precondition?.content_sha256,
    };
    const outcome = await this.write(
      storeId,
      write,
      actor,
      'its memories cannot change',
      'precondition.content_sha256',
    );
    return toMemoryView(requireMemory(outcome), view === 'full');
  }

  /** Deletes a memory (its versions stay), only while its content has `expected_content_sha256` when given. */
  async delete(
    storeId: string,
    memoryId: string,
    expectedContentSha256: string | undefined,
    actor: MemoryActor,
  ): Promise<BetaManagedAgentsDeletedMemory> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    requireResourceId('memory', memoryId, 'memory_id');
    const write: MemoryWrite = { op: 'delete', memoryId, expectedContentSha256 };
    await this.write(storeId, write, actor, 'its memories cannot change', 'expected_content_sha256');
    return { id: memoryId, type: 'memory_deleted' };
  }

  /**
   * Memories under `path_prefix` in path order; with `depth` N, those more than N segments below the prefix are rolled
   * up into one `memory_prefix` item per directory at depth N. The cursor is the last item's path.
   */
  async list(storeId: string, query: ListMemoriesQuery): Promise<MemoryPage<BetaManagedAgentsMemoryListItem>> {
    await this.findStore(storeId);
    const prefix = query.path_prefix ?? '/';
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw invalidField('path_prefix', 'must start and end with /, such as /notes/');
    }
    const full = query.view === 'full';
    const limit = full ? Math.min(query.limit, FULL_VIEW_PAGE_LIMIT) : query.limit;
    const items = rollUp(await this.store.memoryStores.listMemories(storeId, prefix), prefix, query.depth ?? 0);
    const after =
      query.page === undefined || query.page === null || query.page === '' ? null : decodeCursor(query.page);
    const start = after === null ? 0 : items.findIndex((item) => item.path > after && !isInside(item.path, after));
    const page = start < 0 ? [] : items.slice(start, start + limit);
    const more = start >= 0 && start + limit < items.length;
    const data: BetaManagedAgentsMemoryListItem[] = [];
    for (const item of page) {
      if (item.type === 'memory_prefix') data.push(item);
      else {
        const memory = full ? await this.store.memoryStores.getMemory(storeId, item.memory.id) : null;
        data.push(toMemoryView(memory ?? item.memory, full));
      }
    }
    const last = page.at(-1);
    return { data, next_page: more && last !== undefined ? encodeCursor(last.path) : null };
  }

  /** One version, with its content unless `view=basic` (a redacted or `deleted` version has none). */
  async retrieveVersion(storeId: string, versionId: string, view: MemoryView): Promise<BetaManagedAgentsMemoryVersion> {
    await this.findStore(storeId);
    requireResourceId('memory_version', versionId, 'memory_version_id');
    const version = await this.store.memoryStores.getVersion(storeId, versionId);
    if (version === null) throw versionNotFound(storeId, versionId);
    return toMemoryVersionView(version, view === 'full');
  }

  /** The store's versions, newest first, filtered. */
  async listVersions(
    storeId: string,
    query: ListMemoryVersionsQuery,
  ): Promise<MemoryPage<BetaManagedAgentsMemoryVersion>> {
    await this.findStore(storeId);
    // Keel has no service accounts, so no version was written by one.
    if (query.service_account_id !== undefined) return { data: [], next_page: null };
    const full = query.view === 'full';
    const page = await this.store.memoryStores.listVersions(storeId, {
      limit: full ? Math.min(query.limit, FULL_VIEW_PAGE_LIMIT) : query.limit,
      cursor: query.page === undefined || query.page === null || query.page === '' ? null : query.page,
      memoryId: query.memory_id ?? null,
      operation: query.operation ?? null,
      sessionId: query.session_id ?? null,
      apiKeyId: query.api_key_id ?? null,
      createdAtOrAfter: query['created_at[gte]'] ?? null,
      createdAtOrBefore: query['created_at[lte]'] ?? null,
    });
    return { data: page.items.map((version) => toMemoryVersionView(version, full)), next_page: page.nextCursor };
  }

  /** Redacts a version: its path and content are cleared for good (again: no change). */
  async redactVersion(storeId: string, versionId: string, actor: MemoryActor): Promise<BetaManagedAgentsMemoryVersion> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    requireResourceId('memory_version', versionId, 'memory_version_id');
    const outcome = await this.store.memoryStores.redactVersion(storeId, versionId, new Date().toISOString(), actor);
    if (outcome.kind === 'store_not_found') throw memoryStoreNotFound(storeId);
    if (outcome.kind === 'version_not_found') throw versionNotFound(storeId, versionId);
    return toMemoryVersionView(outcome.version, false);
  }

  private async write(
    storeId: string,
    write: MemoryWrite,
    actor: MemoryActor,
    archivedWhat: string,
    preconditionField = 'precondition',
  ): Promise<MemoryWriteOutcome> {
    const context = { versionId: newResourceId('memory_version'), at: new Date().toISOString(), actor };
    const outcome = await this.store.memoryStores.writeMemory(storeId, write, context);
    switch (outcome.kind) {
      case 'store_not_found':
        throw memoryStoreNotFound(storeId);
      case 'store_archived':
        throw memoryStoreArchived(storeId, archivedWhat);
      case 'memory_not_found':
        throw await this.memoryNotFound(storeId, write.memoryId);
      case 'precondition_failed':
        throw preconditionFailed(write.memoryId, preconditionField);
      case 'path_conflict':
        throw pathConflict(write.op === 'delete' ? '' : (write.path ?? ''), outcome.memoryId, outcome.path);
      case 'done':
        return outcome;
    }
  }

  private async findStore(storeId: string): Promise<void> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    if ((await this.store.memoryStores.getStore(storeId)) === null) throw memoryStoreNotFound(storeId);
  }

  private async memoryNotFound(storeId: string, memoryId: string): Promise<ApiError> {
    await this.findStore(storeId);
    return new ApiError('not_found_error', `Memory store ${storeId} has no memory ${memoryId}.`);
  }
}

/** One item of a memory listing before paging: a memory, or a directory rolled up at the listing's depth. */
type ListedItem =
  { type: 'memory'; path: string; memory: StoredMemorySummary } | { type: 'memory_prefix'; path: string };

/** The items of a listing at `depth` (0: every memory) below `prefix`, in path order (a directory's paths are adjacent). */
function rollUp(memories: readonly StoredMemorySummary[], prefix: string, depth: number): ListedItem[] {
  const items: ListedItem[] = [];
  for (const memory of memories) {
    const segments = memory.path.slice(prefix.length).split('/');
    if (depth === 0 || segments.length <= depth) {
      items.push({ type: 'memory', path: memory.path, memory });
      continue;
    }
    const directory = `${prefix}${segments.slice(0, depth).join('/')}/`;
    if (items.at(-1)?.path !== directory) items.push({ type: 'memory_prefix', path: directory });
  }
  return items;
}

/** Whether `path` lies inside the rolled-up directory `cursor` (a prefix item already listed). */
function isInside(path: string, cursor: string): boolean {
  return cursor.endsWith('/') && path.startsWith(cursor);
}

function encodeCursor(path: string): string {
  return Buffer.from(path, 'utf8').toString('base64url');
}

function decodeCursor(page: string): string {
  return Buffer.from(page, 'base64url').toString('utf8');
}

function checkedPath(path: string, field: string): string {
  const problem = memoryPathProblem(path);
  if (problem !== null) throw invalidField(field, `${problem} (got "${path.slice(0, 80)}")`);
  return path;
}

function checkedContent(content: string): string {
  const bytes = memoryContentBytes(content);
  if (bytes > MAX_MEMORY_CONTENT_BYTES) {
    throw invalidField('content', `must be at most ${MAX_MEMORY_CONTENT_BYTES} bytes of UTF-8, got ${bytes}`);
  }
  return content;
}

function requireMemory(
  outcome: MemoryWriteOutcome,
): NonNullable<Extract<MemoryWriteOutcome, { kind: 'done' }>['memory']> {
  if (outcome.kind !== 'done' || outcome.memory === null) throw new Error('The write left no memory.');
  return outcome.memory;
}

function versionNotFound(storeId: string, versionId: string): ApiError {
  return new ApiError('not_found_error', `Memory store ${storeId} has no memory version ${versionId}.`);
}
