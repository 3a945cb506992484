import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
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
  endSessionSignal,
  getSessionQuery,
  interruptSessionSignal,
  sendMessageSignal,
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
export type UserEventRequest = { type: 'user.message'; content: TextBlock[] } | { type: 'user.interrupt' };

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
   * Lists sessions, newest first, through Temporal's visibility store: filters become a visibility query, and the
   * page cursor is Temporal's own page token.
   */
  async list(request: SessionListRequest): Promise<{ data: SessionView[]; next_page: string | null }> {
    const { client } = this.options;
    const response = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      pageSize: request.limit,
      query: sessionListQuery(request),
      ...(request.page === undefined ? {} : { nextPageToken: Buffer.from(request.page, 'base64url') }),
    });
    const data: SessionView[] = [];
    for (const execution of response.executions ?? []) {
      const sessionId = execution.execution?.workflowId;
      if (sessionId) data.push(await this.get(sessionId));
    }
    const token = response.nextPageToken;
    return { data, next_page: token && token.length > 0 ? Buffer.from(token).toString('base64url') : null };
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

  /** Delivers user events, in order, to a running session; returns them as logged (with their ids). */
  async send(sessionId: string, events: UserEventRequest[]): Promise<SessionEvent[]> {
    const handle = this.handle(sessionId);
    await this.requireOpen(handle);
    const sent: SessionEvent[] = [];
    for (const event of events) {
      const id = `${ID_PREFIXES.event}${randomBytes(16).toString('hex')}`;
      const processedAt = new Date().toISOString();
      if (event.type === 'user.message') {
        await handle.signal(sendMessageSignal, { id, content: event.content });
        sent.push({ type: 'user.message', id, content: event.content, processed_at: processedAt });
      } else {
        await handle.signal(interruptSessionSignal, { id });
        sent.push({ type: 'user.interrupt', id, processed_at: processedAt });
      }
    }
    return sent;
  }

  /** Ends the session (its sandbox and workspace volume are removed) and waits for the Workflow to complete. */
  async end(sessionId: string): Promise<void> {
    const handle = this.handle(sessionId);
    await this.requireOpen(handle);
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
