import type { BetaDream } from '@anthropic-ai/sdk/resources/beta/dreams';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { AgentSnapshot } from '../../common/agent';
import { SANDBOX_TOOL_NAMES } from '../../common/agent';
import { MEMORY_MOUNT_ROOT, memoryMountDirectory } from '../../common/memory';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { getSessionQuery } from '../../workflows/messages';
import { ApiError, invalidField } from '../api-error';
import { toPageRequest } from '../page-query';
import { newResourceId, requireResourceId } from '../resource-ids';
import type { SessionEventReader } from '../sessions/events/session-event-reader';
import type { SessionQueries } from '../sessions/session-queries';
import type { SessionService } from '../sessions/session-service';
import type { ControlPlaneStore } from '../store/control-plane-store';
import type { DreamStatus, StoredDream } from '../store/dream-repository';
import type { StoredMemoryStore } from '../store/memory-store-repository';
import { dreamFirstMessage, dreamSystemPrompt, transcriptLines } from './dream-prompt';
import type { CreateDreamBody } from './dream-request-schemas';
import { isFinalDreamStatus, observeDream } from './dream-status';
import type { DreamSessionState } from './dream-status';
import { toDreamView } from './dream-view';

/** The events of one past session a dream reads at most (its transcript is cut to its share of characters anyway). */
const MAX_TRANSCRIPT_EVENTS = 2_000;

/** How many dreams of the workspace `create` looks among for another `update_existing` dream on the same store. */
const MAX_ACTIVE_DREAMS_SCANNED = 1_000;

/** What `DreamService` needs. */
export interface DreamServiceOptions {
  /** The workspace-scoped control-plane store. */
  store: ControlPlaneStore;
  client: Client;
  queries: SessionQueries;
  sessions: SessionService;
  reader: SessionEventReader;
  /** The server's default agent, whose `maxTokens` a dream's session uses. */
  defaultAgent: AgentSnapshot;
}

/** A page of `GET /v1/dreams`, with its filters. */
export interface DreamListRequest {
  limit: number;
  page?: string | null | undefined;
  includeArchived: boolean;
  createdAfter: string | null;
  createdBefore: string | null;
  statuses: DreamStatus[];
}

/**
 * Dreams (`client.beta.dreams`): each is a Keel session that reorganises a memory store. `create` copies the input
 * store into a new one (`create_new`) and starts a session whose agent (a fixed prompt plus the dream's instructions)
 * has it mounted read_write, with the past sessions' transcripts in its first message. A dream's status is read from
 * its session whenever the dream is read, and kept once final, so any server, restarted or not, reports it.
 */
export class DreamService {
  constructor(private readonly options: DreamServiceOptions) {}

  /** Checks the request, prepares the output store, starts the dream's session and answers the `pending` dream. */
  async create(body: CreateDreamBody): Promise<BetaDream> {
    const storeIndex = body.inputs.findIndex((input) => input.type === 'memory_store');
    const storeInput = body.inputs[storeIndex];
    if (storeInput?.type !== 'memory_store') throw invalidField('inputs', 'must hold exactly one memory_store entry');
    const storeField = `inputs[${storeIndex}].memory_store_id`;
    requireResourceId('memory_store', storeInput.memory_store_id, storeField);
    const input = await this.options.store.memoryStores.getStore(storeInput.memory_store_id);
    if (input === null)
      throw new ApiError('not_found_error', `${storeField}: no memory store ${storeInput.memory_store_id}.`);
    if (input.archivedAt !== null) throw invalidField(storeField, `memory store ${input.id} is archived`);
    const sessionIds = await this.checkedSessions(body);
    const outputBehavior = body.output_behavior ?? { type: 'create_new' as const };
    if (outputBehavior.type === 'update_existing') {
      if (outputBehavior.memory_store_id !== input.id) {
        throw invalidField('output_behavior.memory_store_id', 'must be the memory store of the memory_store input');
      }
      await this.requireNoOtherWriter(input.id);
    }
    const now = new Date().toISOString();
    const id = newResourceId('dream');
    const output = outputBehavior.type === 'create_new' ? await this.copyOf(input, id, now) : input;
    const model = typeof body.model === 'string' ? body.model : body.model.id;
    const dream: StoredDream = {
      id,
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      status: 'pending',
      inputs: body.inputs.map((entry) =>
        entry.type === 'memory_store'
          ? { type: 'memory_store', memory_store_id: entry.memory_store_id }
          : { type: 'sessions', session_ids: [...entry.session_ids].sort() },
      ),
      model: { id: model, speed: 'standard' },
      instructions: body.instructions ?? null,
      outputBehavior,
      outputMemoryStoreId: output.id,
      sessionId: null,
      endedAt: null,
      error: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    await this.options.store.dreams.insert(dream);
    try {
      const sessionId = await this.startSession(dream, output, sessionIds);
      const started = await this.options.store.dreams.update(id, (current) => ({ ...current, sessionId }));
      return toDreamView(started ?? { ...dream, sessionId });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.options.store.dreams.update(id, (current) => ({
        ...current,
        status: 'failed',
        endedAt: new Date().toISOString(),
        error: { type: 'internal_error', message: `The dream's session could not start: ${message}` },
      }));
      throw error;
    }
  }

  /** The dream, its status read from its session; archived dreams too. */
  async retrieve(dreamId: string): Promise<BetaDream> {
    return toDreamView(await this.observed(await this.find(dreamId)));
  }

  /**
   * Dreams newest first. Filters apply to the dreams' current statuses, so a page is gathered from store pages of the
   * size still missing, each read whole: `next_page` is always a store cursor.
   */
  async list(request: DreamListRequest): Promise<{ data: BetaDream[]; next_page: string | null }> {
    const found: StoredDream[] = [];
    let cursor = toPageRequest(request).cursor;
    for (;;) {
      const page = await this.options.store.dreams.list({
        limit: request.limit - found.length,
        cursor,
        includeArchived: request.includeArchived,
      });
      let older = false;
      for (const stored of page.items) {
        if (request.createdBefore !== null && stored.createdAt >= request.createdBefore) continue;
        if (request.createdAfter !== null && stored.createdAt <= request.createdAfter) {
          older = true;
          continue;
        }
        const dream = await this.observed(stored);
        if (request.statuses.length === 0 || request.statuses.includes(dream.status)) found.push(dream);
      }
      cursor = page.nextCursor;
      // Newest first: once a dream is as old as `created_at[gt]`, every later one is too.
      if (older) cursor = null;
      if (cursor === null || found.length === request.limit) break;
    }
    return { data: found.map(toDreamView), next_page: cursor };
  }

  /** Hides a final dream from the default list; a `pending` or `running` one is refused with 400. */
  async archive(dreamId: string): Promise<BetaDream> {
    const dream = await this.observed(await this.find(dreamId));
    if (!isFinalDreamStatus(dream.status)) {
      throw new ApiError(
        'invalid_request_error',
        `Dream ${dream.id} is ${dream.status}: cancel it before archiving it.`,
      );
    }
    const now = new Date().toISOString();
    const archived = await this.options.store.dreams.update(dream.id, (current) =>
      current.archivedAt === null ? { ...current, archivedAt: now, updatedAt: now } : current,
    );
    return toDreamView(archived ?? dream);
  }

  /**
   * Stops a `pending` or `running` dream: marks it `canceled`, then interrupts and ends its session (the output store
   * keeps what the session wrote). A canceled dream is answered unchanged; a completed or failed one is a 400.
   */
  async cancel(dreamId: string): Promise<BetaDream> {
    const dream = await this.observed(await this.find(dreamId));
    if (dream.status === 'canceled') return toDreamView(dream);
    if (dream.status === 'completed' || dream.status === 'failed') {
      throw new ApiError('invalid_request_error', `Dream ${dream.id} is ${dream.status}; it cannot be canceled.`);
    }
    const now = new Date().toISOString();
    const canceled = await this.options.store.dreams.update(dream.id, (current) =>
      isFinalDreamStatus(current.status) ? current : { ...current, status: 'canceled', endedAt: now, updatedAt: now },
    );
    if (dream.sessionId !== null) await this.endSession(dream.sessionId);
    return toDreamView(canceled ?? dream);
  }

  /** The stored dream, or a 404 (a 400 for a malformed id). */
  private async find(dreamId: string): Promise<StoredDream> {
    requireResourceId('dream', dreamId, 'dream_id');
    const found = await this.options.store.dreams.get(dreamId);
    if (found === null) throw new ApiError('not_found_error', `No dream ${dreamId}.`);
    return found;
  }

  /** The dream after reading its session, stored when that changed it (a final status is never overwritten). */
  private async observed(dream: StoredDream): Promise<StoredDream> {
    if (isFinalDreamStatus(dream.status) || dream.sessionId === null) return dream;
    const now = new Date().toISOString();
    const next = observeDream(dream, await this.sessionState(dream.sessionId), now);
    if (JSON.stringify(next) === JSON.stringify(dream)) return dream;
    const stored = await this.options.store.dreams.update(dream.id, (current) =>
      isFinalDreamStatus(current.status) ? current : { ...next, archivedAt: current.archivedAt, updatedAt: now },
    );
    return stored ?? next;
  }

  /** What the session shows now: `null` when it is gone, `terminated` once its Workflow has closed. */
  private async sessionState(sessionId: string): Promise<DreamSessionState | null> {
    try {
      const description = await this.options.client.workflow.getHandle(sessionId).describe();
      if (description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW') {
        return { status: 'terminated', lastEvent: null, usage: null };
      }
      const summary = await this.options.queries.run(sessionId, getSessionQuery, []);
      return { status: summary.status, lastEvent: summary.lastEvent, usage: summary.usage };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
  }

  /** The sessions input's ids, each an existing session of the workspace (404 naming the field otherwise). */
  private async checkedSessions(body: CreateDreamBody): Promise<string[]> {
    const index = body.inputs.findIndex((input) => input.type === 'sessions');
    const entry = body.inputs[index];
    if (entry?.type !== 'sessions') return [];
    for (const [position, sessionId] of entry.session_ids.entries()) {
      const field = `inputs[${index}].session_ids[${position}]`;
      try {
        await this.options.sessions.requireExists(sessionId);
      } catch (error) {
        if (error instanceof ApiError && error.type === 'invalid_request_error') {
          throw invalidField(field, `expected a session id (sesn_…), got "${sessionId.slice(0, 80)}"`);
        }
        if (error instanceof ApiError && error.type === 'not_found_error') {
          throw new ApiError('not_found_error', `${field}: no session ${sessionId}.`);
        }
        throw error;
      }
    }
    return entry.session_ids;
  }

  /** Refuses (409) an `update_existing` dream while another dream that writes into the store has not stopped. */
  private async requireNoOtherWriter(storeId: string): Promise<void> {
    let cursor: string | null = null;
    for (let scanned = 0; scanned < MAX_ACTIVE_DREAMS_SCANNED; scanned += 100) {
      const page = await this.options.store.dreams.list({ limit: 100, cursor, includeArchived: false });
      for (const stored of page.items) {
        if (stored.outputMemoryStoreId !== storeId || isFinalDreamStatus(stored.status)) continue;
        const dream = await this.observed(stored);
        if (!isFinalDreamStatus(dream.status)) {
          throw new ApiError(
            'conflict_error',
            `Dream ${dream.id} is ${dream.status} and writes into memory store ${storeId}: wait for it to end or cancel it.`,
          );
        }
      }
      cursor = page.nextCursor;
      if (cursor === null) return;
    }
  }

  /** A new memory store holding a copy of every memory of `input` (the `create_new` output). */
  private async copyOf(input: StoredMemoryStore, dreamId: string, at: string): Promise<StoredMemoryStore> {
    const repository = this.options.store.memoryStores;
    const output: StoredMemoryStore = {
      id: newResourceId('memory_store'),
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
      name: input.name,
      description: `The result of dream ${dreamId}: a reorganised copy of memory store ${input.id}.`,
      metadata: { dream_id: dreamId, source_memory_store_id: input.id },
    };
    await repository.insertStore(output);
    for (const summary of await repository.listMemories(input.id, '/')) {
      const memory = await repository.getMemory(input.id, summary.id);
      if (memory === null) continue;
      await repository.writeMemory(
        output.id,
        { op: 'create', memoryId: newResourceId('memory'), path: memory.path, content: memory.content },
        { versionId: newResourceId('memory_version'), at, actor: null },
      );
    }
    return (await repository.getStore(output.id)) ?? output;
  }

  /** Starts the session that runs the dream and returns its id. */
  private async startSession(dream: StoredDream, output: StoredMemoryStore, sessionIds: string[]): Promise<string> {
    const transcripts: Array<{ sessionId: string; lines: string[] }> = [];
    for (const sessionId of sessionIds) {
      const read = await this.options.reader.read(sessionId, -1, MAX_TRANSCRIPT_EVENTS);
      transcripts.push({ sessionId, lines: transcriptLines(read.events) });
    }
    const mountPath = `${MEMORY_MOUNT_ROOT}/${memoryMountDirectory(output.name)}`;
    const agent: AgentSnapshot = {
      id: null,
      version: 1,
      name: 'Keel dream',
      model: dream.model.id,
      system: dreamSystemPrompt(dream.instructions),
      maxTokens: this.options.defaultAgent.maxTokens,
      tools: [...SANDBOX_TOOL_NAMES],
      permissions: Object.fromEntries(SANDBOX_TOOL_NAMES.map((name) => [name, 'always_allow' as const])),
    };
    const session = await this.options.sessions.create({
      agentSnapshot: agent,
      title: `Dream ${dream.id}`,
      metadata: { dream_id: dream.id },
      initialEvents: [
        { type: 'user.message', content: [{ type: 'text', text: dreamFirstMessage(mountPath, transcripts) }] },
      ],
      resources: [{ type: 'memory_store', memory_store_id: output.id, access: 'read_write' }],
      vaultIds: [],
    });
    return session.id;
  }

  /** Interrupts and ends a dream's session; one that has ended already is left as it is. */
  private async endSession(sessionId: string): Promise<void> {
    try {
      await this.options.sessions.end(sessionId);
    } catch (error) {
      if (error instanceof ApiError && (error.type === 'conflict_error' || error.type === 'not_found_error')) return;
      throw error;
    }
  }
}
