import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { AgentSnapshot } from '../common/agent';
import { ID_PREFIXES, isSessionId } from '../common/ids';
import type { SessionEvent, TextBlock } from '../common/events';
import type { SandboxEnvironment } from '../common/sandbox';
import type { SandboxProvisioning, SessionLimits, UpdateSessionInput } from '../common/session';
import { SESSION_TASK_QUEUE } from '../common/task-queues';
import type { sessionWorkflow } from '../workflows';
import {
  archiveSessionUpdate,
  customToolResultUpdate,
  endSessionSignal,
  getSessionQuery,
  interruptSessionSignal,
  sendMessageSignal,
  toolConfirmationUpdate,
  updateSessionUpdate,
} from '../workflows/messages';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { AgentService } from './agent-service';
import { ApiError, invalidField } from './api-error';
import type { EnvironmentService } from './environment-service';
import { toSandboxEnvironment } from './environment-snapshot';
import type { FileService } from './file-service';
import { requireSupportedAgentTools } from './session-agent-support';
import { sessionListQuery } from './session-list-query';
import type { SessionListRequest } from './session-list-query';
import type { SessionQueries } from './session-queries';
import { toSessionAgentView, toSessionView } from './session-view';
import type { SessionAgentView, SessionFileResource, SessionView } from './session-view';
import type { VaultService } from './vault-service';

/** What a new session is made of; without `agent`, the server's default agent runs (a Keel extension). */
export interface CreateSessionRequest {
  agent?: { id: string; version?: number } | undefined;
  environmentId?: string | undefined;
  title: string | null;
  metadata: Record<string, string>;
  initialEvents: UserEventRequest[];
  /** Uploaded files to mount read-only into the sandbox. */
  fileResources: Array<{ fileId: string; mountPath: string | null }>;
  /** Vaults whose credentials the session's MCP calls may use, in order of preference. */
  vaultIds: string[];
}

/** A user event as the API accepts it. */
export type UserEventRequest =
  | { type: 'user.message'; content: TextBlock[] }
  | { type: 'user.interrupt' }
  | {
      type: 'user.tool_confirmation';
      tool_use_id: string;
      result: 'allow' | 'deny';
      deny_message?: string | null | undefined;
    }
  | {
      type: 'user.custom_tool_result';
      custom_tool_use_id: string;
      content?: TextBlock[] | undefined;
      is_error?: boolean | null | undefined;
    };

/** What `SessionService` needs. */
export interface SessionServiceOptions {
  client: Client;
  queries: SessionQueries;
  agent: AgentSnapshot;
  limits: SessionLimits;
  sandboxProvisioning: SandboxProvisioning;
  agents: AgentService;
  environments: EnvironmentService;
  files: FileService;
  vaults: VaultService;
}

const END_TIMEOUT_MS = 60_000;

/** Session operations on Temporal, shared by every route: one place that starts, signals and reads sessions. */
export class SessionService {
  constructor(private readonly options: SessionServiceOptions) {}

  /** Starts the session Workflow (Workflow ID = session id) and returns the session. */
  async create(request: CreateSessionRequest): Promise<SessionView> {
    const id = `${ID_PREFIXES.session}${randomBytes(16).toString('base64url')}`;
    const { limits, sandboxProvisioning, client } = this.options;
    let agent = this.options.agent;
    let agentView: SessionAgentView | null = null;
    if (request.agent !== undefined) {
      const stored = await this.options.agents.retrieve(request.agent.id, request.agent.version);
      requireSupportedAgentTools(stored, 'agent');
      agent = await this.options.agents.snapshot(request.agent.id, stored.version);
      agentView = toSessionAgentView(stored);
    }
    const resources = await this.fileResources(request.fileResources);
    let environment: SandboxEnvironment | undefined;
    if (request.environmentId !== undefined) {
      const stored = await this.options.environments.retrieve(request.environmentId);
      if (stored.archived_at !== null) {
        throw new ApiError('conflict_error', `Environment ${stored.id} is archived; it cannot start new sessions.`);
      }
      environment = toSandboxEnvironment(stored, 'environment_id');
    }
    const vaultIds = await this.options.vaults.forSession(request.vaultIds);
    await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
      workflowId: id,
      taskQueue: SESSION_TASK_QUEUE,
      args: [
        {
          sessionId: id,
          agent,
          title: request.title,
          createdAt: new Date().toISOString(),
          limits,
          sandboxProvisioning,
          files: resources.map((resource) => ({ fileId: resource.file_id, mountPath: resource.mount_path })),
          ...(environment === undefined ? {} : { environment }),
          ...(vaultIds.length === 0 ? {} : { vaultIds }),
        },
      ],
      staticSummary: request.title ?? `Keel session with ${agent.name}`,
      memo: {
        metadata: request.metadata,
        agent: agentView,
        environment_id: request.environmentId ?? null,
        resources,
        vault_ids: vaultIds,
      },
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.status, value: 'idle' },
        { key: SEARCH_ATTRIBUTES.agent, value: agent.id ?? agent.name },
        { key: SEARCH_ATTRIBUTES.agentVersion, value: agent.version },
      ],
    });
    if (request.initialEvents.length > 0) await this.send(id, request.initialEvents);
    return this.get(id);
  }

  /**
   * Checks the session's file resources (each file must exist; mount paths default to the SDK's
   * `/mnt/session/uploads/<file_id>` and must not collide) and returns them in the session object's shape.
   */
  private async fileResources(requested: CreateSessionRequest['fileResources']): Promise<SessionFileResource[]> {
    const now = new Date().toISOString();
    const resources: SessionFileResource[] = [];
    for (const [index, resource] of requested.entries()) {
      await this.options.files.retrieve(resource.fileId);
      const mountPath = resource.mountPath ?? `/mnt/session/uploads/${resource.fileId}`;
      if (resources.some((earlier) => earlier.mount_path === mountPath)) {
        throw invalidField(`resources[${index}].mount_path`, `${mountPath} is already used by another resource`);
      }
      resources.push({
        id: `sesrsc_${randomBytes(12).toString('hex')}`,
        type: 'file',
        file_id: resource.fileId,
        mount_path: mountPath,
        created_at: now,
        updated_at: now,
      });
    }
    return resources;
  }

  /** Returns the session, or a 404. */
  async get(sessionId: string): Promise<SessionView> {
    const handle = this.handle(sessionId);
    const description = await this.describe(handle);
    const summary = await this.options.queries.run(sessionId, getSessionQuery, []);
    return toSessionView(description, summary);
  }

  /** Resolves when the session exists (without querying it), or throws a 404 or a 400 for a malformed id. */
  async requireExists(sessionId: string): Promise<void> {
    await this.describe(this.handle(sessionId));
  }

  /**
   * Lists sessions through Temporal's visibility store: filters become a visibility query. Newest first, the page
   * cursor is Temporal's own page token. Oldest first (`order=asc`), which Temporal's SQL visibility cannot sort,
   * reads the matching sessions started at or after the cursor and sorts them here; the cursor is the start time and
   * id of the last session returned.
   */
  async list(request: SessionListRequest): Promise<{ data: SessionView[]; next_page: string | null }> {
    if (request.order === 'asc') return this.listOldestFirst(request);
    const { client } = this.options;
    let nextPageToken: Buffer | undefined;
    if (request.page !== undefined) {
      if (request.page.startsWith(ASC_CURSOR_PREFIX)) throw invalidField('page', 'this cursor belongs to order=asc');
      nextPageToken = Buffer.from(request.page, 'base64url');
    }
    const response = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      pageSize: request.limit,
      query: sessionListQuery(request),
      ...(nextPageToken === undefined ? {} : { nextPageToken }),
    });
    const data: SessionView[] = [];
    for (const execution of response.executions ?? []) {
      const sessionId = execution.execution?.workflowId;
      if (sessionId) data.push(await this.get(sessionId));
    }
    const token = response.nextPageToken;
    return { data, next_page: token && token.length > 0 ? Buffer.from(token).toString('base64url') : null };
  }

  private async listOldestFirst(
    request: SessionListRequest,
  ): Promise<{ data: SessionView[]; next_page: string | null }> {
    const after = request.page === undefined ? null : parseAscCursor(request.page);
    const createdAt = { ...request.createdAt };
    if (after !== null) createdAt.gte = after.startTime;
    const matching: Array<{ id: string; startTime: string }> = [];
    for await (const execution of this.options.client.workflow.list({
      query: sessionListQuery({ ...request, createdAt }),
    })) {
      const entry = { id: execution.workflowId, startTime: execution.startTime.toISOString() };
      if (after === null || compareStarts(entry, after) > 0) matching.push(entry);
    }
    matching.sort(compareStarts);
    const page = matching.slice(0, request.limit);
    const data: SessionView[] = [];
    for (const entry of page) data.push(await this.get(entry.id));
    const last = page.at(-1);
    const more = matching.length > page.length && last !== undefined;
    return {
      data,
      next_page: more ? ASC_CURSOR_PREFIX + Buffer.from(`${last.startTime}|${last.id}`).toString('base64url') : null,
    };
  }

  /** Changes the session's title and metadata; refused with 409 once the session has ended or is archived. */
  async update(sessionId: string, change: UpdateSessionInput): Promise<SessionView> {
    const handle = this.handle(sessionId);
    await this.requireOpen(handle);
    await handle.executeUpdate(updateSessionUpdate, { args: [change] });
    return this.get(sessionId);
  }

  /** Archives the session: it accepts no new events from then on; archiving twice changes nothing. */
  async archive(sessionId: string): Promise<SessionView> {
    const handle = this.handle(sessionId);
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended; an ended session cannot be archived.`);
    }
    await handle.executeUpdate(archiveSessionUpdate);
    return this.get(sessionId);
  }

  /**
   * Delivers user events, in order, to a running session; returns them as logged (with their ids). Answers to tool
   * calls are checked against what the session waits for before anything is sent, so a batch with one answer for an
   * unknown or already answered call is refused whole and changes nothing.
   */
  async send(sessionId: string, events: UserEventRequest[]): Promise<SessionEvent[]> {
    const handle = this.handle(sessionId);
    await this.requireOpen(handle);
    await this.requireAwaited(sessionId, events);
    const sent: SessionEvent[] = [];
    for (const event of events) {
      const id = `${ID_PREFIXES.event}${randomBytes(16).toString('hex')}`;
      const processedAt = new Date().toISOString();
      switch (event.type) {
        case 'user.message':
          await handle.signal(sendMessageSignal, { id, content: event.content });
          sent.push({ type: 'user.message', id, content: event.content, processed_at: processedAt });
          break;
        case 'user.interrupt':
          await handle.signal(interruptSessionSignal, { id });
          sent.push({ type: 'user.interrupt', id, processed_at: processedAt });
          break;
        case 'user.tool_confirmation': {
          const denyMessage = event.deny_message ?? null;
          await this.executeAnswer(() =>
            handle.executeUpdate(toolConfirmationUpdate, {
              args: [{ id, toolUseId: event.tool_use_id, result: event.result, denyMessage }],
              updateId: id,
            }),
          );
          sent.push({
            type: 'user.tool_confirmation',
            id,
            tool_use_id: event.tool_use_id,
            result: event.result,
            ...(denyMessage === null ? {} : { deny_message: denyMessage }),
            processed_at: processedAt,
          });
          break;
        }
        case 'user.custom_tool_result': {
          const content = event.content ?? [];
          const isError = event.is_error ?? false;
          await this.executeAnswer(() =>
            handle.executeUpdate(customToolResultUpdate, {
              args: [{ id, customToolUseId: event.custom_tool_use_id, content, isError }],
              updateId: id,
            }),
          );
          sent.push({
            type: 'user.custom_tool_result',
            id,
            custom_tool_use_id: event.custom_tool_use_id,
            content,
            is_error: isError,
            processed_at: processedAt,
          });
          break;
        }
      }
    }
    return sent;
  }

  /** Refuses (400 naming the field) answers to tool calls the session is not waiting for, before any is sent. */
  private async requireAwaited(sessionId: string, events: UserEventRequest[]): Promise<void> {
    if (!events.some((event) => event.type === 'user.tool_confirmation' || event.type === 'user.custom_tool_result')) {
      return;
    }
    const interrupt = events.findIndex((event) => event.type === 'user.interrupt');
    if (interrupt >= 0) {
      throw invalidField(
        `events[${interrupt}]`,
        'an interrupt ends the wait for tool answers, so it cannot be sent in one batch with them',
      );
    }
    const summary = await this.options.queries.run(sessionId, getSessionQuery, []);
    const waiting = new Map((summary.awaiting ?? []).map((call) => [call.eventId, call.resolvedBy]));
    events.forEach((event, index) => {
      if (event.type !== 'user.tool_confirmation' && event.type !== 'user.custom_tool_result') return;
      const [field, eventId] =
        event.type === 'user.tool_confirmation'
          ? ['tool_use_id', event.tool_use_id]
          : ['custom_tool_use_id', event.custom_tool_use_id];
      const resolvedBy = waiting.get(eventId);
      if (resolvedBy === undefined) {
        throw invalidField(
          `events[${index}].${field}`,
          `session ${sessionId} is not waiting for an answer to ${eventId} (unknown, or already answered)`,
        );
      }
      if (resolvedBy !== event.type) {
        throw invalidField(`events[${index}].${field}`, `${eventId} waits for ${resolvedBy}, not ${event.type}`);
      }
      waiting.delete(eventId);
    });
  }

  /** Runs an answer's Update; a refusal by the Workflow's validator (a race with another answer) becomes a 400. */
  private async executeAnswer(update: () => Promise<unknown>): Promise<void> {
    try {
      await update();
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        throw new ApiError('invalid_request_error', cause);
      }
      throw error;
    }
  }

  /** Ends the session (its sandbox and workspace volume are removed) and waits for the Workflow to complete. */
  async end(sessionId: string): Promise<void> {
    const handle = this.handle(sessionId);
    // An archived session can still be deleted: it may hold a sandbox, or wait for tool answers it can no longer get.
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended already.`);
    }
    await handle.signal(endSessionSignal);
    await Promise.race([
      handle.result(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new ApiError('api_error', 'The session did not end in time.')), END_TIMEOUT_MS).unref(),
      ),
    ]);
  }

  private handle(sessionId: string): WorkflowHandle<typeof sessionWorkflow> {
    if (!isSessionId(sessionId)) {
      throw new ApiError('invalid_request_error', `session_id: expected a session id (sesn_…), got "${sessionId}"`);
    }
    return this.options.client.workflow.getHandle<typeof sessionWorkflow>(sessionId);
  }

  private async describe(handle: WorkflowHandle): Promise<Awaited<ReturnType<WorkflowHandle['describe']>>> {
    try {
      return await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        throw new ApiError('not_found_error', `No session ${handle.workflowId}.`);
      throw error;
    }
  }

  private async requireOpen(handle: WorkflowHandle): Promise<void> {
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError('conflict_error', `Session ${handle.workflowId} has ended; it accepts no new events.`);
    }
    if (typeof description.memo?.['archived_at'] === 'string') {
      throw new ApiError('conflict_error', `Session ${handle.workflowId} is archived; it accepts no new events.`);
    }
  }
}

/** Cursors of `order=asc` pages start with this, so one is never mistaken for a Temporal page token. */
const ASC_CURSOR_PREFIX = 'asc_';

function parseAscCursor(page: string): { id: string; startTime: string } {
  if (!page.startsWith(ASC_CURSOR_PREFIX)) throw invalidField('page', 'this cursor belongs to order=desc');
  const [startTime, id] = Buffer.from(page.slice(ASC_CURSOR_PREFIX.length), 'base64url').toString().split('|');
  if (startTime === undefined || id === undefined || Number.isNaN(Date.parse(startTime)) || !isSessionId(id)) {
    throw invalidField('page', 'page must be a cursor returned by the previous page');
  }
  return { id, startTime };
}

function compareStarts(a: { id: string; startTime: string }, b: { id: string; startTime: string }): number {
  return a.startTime === b.startTime ? a.id.localeCompare(b.id) : a.startTime.localeCompare(b.startTime);
}
