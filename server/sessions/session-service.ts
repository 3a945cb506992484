import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { AgentSnapshot } from '../../common/agent';
import { ID_PREFIXES, isSessionId } from '../../common/ids';
import { SESSION_LISTING_MEMO_KEY, sessionListingOf, toSessionListing } from '../../common/session-listing';
import { WORKSPACE_MEMO_KEY, workspaceOfMemo } from '../../common/workspace';
import { acceptsMidConversationSystem } from '../../common/model-context';
import { listPriceFor } from '../../common/list-price';
import type { BudgetLimit } from '../../common/list-price';
import type { SessionEvent, TextBlock, UserContentBlock } from '../../common/events';
import type { SandboxEnvironment } from '../../common/sandbox';
import type { OutcomeRubric } from '../../common/outcome';
import type {
  SandboxProvisioning,
  SessionLimits,
  SessionResourceRecord,
  SessionWorkflowInput,
  ToolResultContentBlock,
  UpdateSessionInput,
} from '../../common/session';
import { newSessionSummary } from '../../common/session';
import { SESSION_TASK_QUEUE } from '../../common/task-queues';
import type { sessionWorkflow } from '../../workflows';
import {
  archiveSessionUpdate,
  customToolResultUpdate,
  defineOutcomeUpdate,
  deliverInitialEventsSignal,
  endSessionSignal,
  getSessionQuery,
  interruptSessionSignal,
  sendMessageSignal,
  toolConfirmationUpdate,
  toolResultUpdate,
  updateSessionUpdate,
} from '../../workflows/messages';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import type { AgentOverrides, AgentService } from '../agents/agent-service';
import { sameDefinition, updatedAgentDefinition } from '../agents/agent-definition';
import { toAgentSnapshot } from '../agents/agent-snapshot';
import { toAgentView } from '../agents/agent-view';
import { rosterOf } from '../agents/agent-roster';
import { callableAgentsOf } from './callable-agents';
import { initialEventsOf, planDelivery } from './plan-delivery';
import type { DeliveryIds } from './plan-delivery';
import { updateWithDeadline } from './update-with-deadline';
import type { AgentDefinition } from '../store/control-plane-store';
import { ApiError, invalidField } from '../api-error';
import { BoundedCache } from '../bounded-cache';
import { currentWorkspaceId } from '../request-scope';
import type { EnvironmentService } from '../environments/environment-service';
import { toSandboxEnvironment } from '../environments/environment-snapshot';
import type { FileService } from '../files/file-service';
import { newRepositoryResource, newResourceId } from './resources/repository-resource';
import type { RepositoryTokens } from './resources/repository-tokens';
import type { SessionResourceParams } from './resources/session-resource-schemas';
import { readListedSessions } from './listed-sessions';
import { decodeCursor, encodeCursor, selectPage } from './session-pages';
import type { SessionListRequest } from './session-list-query';
import { QUERY_DEADLINE_MS } from './session-queries';
import type { QueryPatience, SessionQueries } from './session-queries';
import { toListedSessionView, toSessionAgentView, toSessionView } from './session-view';
import type { SessionAgentView, SessionView } from './session-view';
import type { VaultService } from '../vaults/vault-service';
import type { MemoryStoreService } from '../memory-stores/memory-store-service';
import { withMemoryNote } from '../memory-stores/memory-system-note';
import type { SkillService } from '../skills/skill-service';
import { withSkillNote } from '../skills/skill-system-note';

/** What a new session is made of; without `agent`, the server's default agent runs (a Keel extension). */
export interface CreateSessionRequest {
  agent?: { id: string; version?: number | undefined; overrides?: AgentOverrides | undefined } | undefined;
  environmentId?: string | undefined;
  title: string | null;
  metadata: Record<string, string>;
  initialEvents: UserEventRequest[];
  /** Uploaded files to mount read-only into the sandbox, and repositories to clone into its workspace. */
  resources: SessionResourceParams[];
  /** Vaults whose credentials the session's MCP calls may use, in order of preference. */
  vaultIds: string[];
  /** The session's spend ceiling; its model must have a list price. */
  budget?: BudgetLimit;
  /** The deployment that creates the session (the session object's `deployment_id`); absent for a direct create. */
  deploymentId?: string;
  /**
   * An inline agent run when `agent` is absent, instead of the server's default (Keel-internal, not an API field: the
   * sessions that run dreams use it, so that a dream needs no stored agent).
   */
  agentSnapshot?: AgentSnapshot | undefined;
}

/** A user event as the API accepts it. */
export type UserEventRequest =
  | { type: 'user.message'; content: UserContentBlock[] }
  | { type: 'user.interrupt'; session_thread_id?: string | null | undefined }
  | { type: 'system.message'; content: TextBlock[] }
  | {
      type: 'user.define_outcome';
      description: string;
      rubric: OutcomeRubric;
      max_iterations?: number | null | undefined;
    }
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
    }
  | {
      type: 'user.tool_result';
      tool_use_id: string;
      content?: ToolResultContentBlock[] | undefined;
      is_error?: boolean | null | undefined;
    };

/** The answers to tool calls a session waits on, and the field of each that names the call. */
const ANSWER_FIELDS = {
  'user.tool_confirmation': 'tool_use_id',
  'user.custom_tool_result': 'custom_tool_use_id',
  'user.tool_result': 'tool_use_id',
} as const;

type AnswerEvent = Extract<UserEventRequest, { type: keyof typeof ANSWER_FIELDS }>;

function isAnswer(event: UserEventRequest): event is AnswerEvent {
  return event.type in ANSWER_FIELDS;
}

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
  /** Memory stores, which `memory_store` resources mount. */
  memoryStores: MemoryStoreService;
  /** Custom skills, which the agent's `skills` mount into the sandbox. */
  skills: SkillService;
  /** Where repository resources' tokens are sealed and stored. */
  repositoryTokens: RepositoryTokens;
  /** The repository hosts besides github.com (`KEEL_REPOSITORY_HOSTS`); none when absent. */
  repositoryHosts?: readonly string[];
  /** The sessions each deployment created (for `sessions.list?deployment_id=`); set once deployments are served. */
  deploymentSessions?: { sessionsOf(deploymentId: string, limit: number): Promise<string[]> };
}

const END_TIMEOUT_MS = 60_000;

/** How long `sessions.create` waits for its Workflow's first answer: one Query deadline. */
const CREATE_PATIENCE: QueryPatience = { deadlineMs: QUERY_DEADLINE_MS, attempts: 1 };

/** The reasons the Workflow refuses a budget with, each at the start of its message. */
const BUDGET_REASONS = ['budget_create_only', 'budget_not_raised', 'model_not_budgetable'] as const;

/**
 * How many of the sessions a memory store or deployment recorded `sessions.list` also looks among, by id: those from
 * before the `KeelMemoryStores` and `KeelDeployment` search attributes (every later one carries them).
 */
const MAX_EARLIER_MATCHES = 1_000;

/** Session operations on Temporal, shared by every route: one place that starts, signals and reads sessions. */
export class SessionService {
  /** The workspace of each session seen lately, by id (a session's workspace never changes). */
  private readonly workspaces = new BoundedCache<string>({ maxEntries: 100_000, maxBytes: 8 * 1024 * 1024 });

  constructor(private readonly options: SessionServiceOptions) {}

  /** Starts the session Workflow (Workflow ID = session id) and returns the session. */
  async create(request: CreateSessionRequest): Promise<SessionView> {
    const id = `${ID_PREFIXES.session}${randomBytes(16).toString('base64url')}`;
    let agent = request.agentSnapshot ?? this.options.agent;
    let agentView: SessionAgentView | null = null;
    let coordinator: BetaManagedAgentsAgent | null = null;
    if (request.agent !== undefined) {
      const { id, version, overrides } = request.agent;
      const resolved = await this.options.agents.forSession(id, version, overrides);
      agent = resolved.snapshot;
      agentView = toSessionAgentView(resolved.view);
      if (resolved.view.multiagent !== null) coordinator = resolved.view;
    }
    const { resources, tokens } = await this.sessionResources(request.resources);
    let environment: SandboxEnvironment | undefined;
    let selfHosted: { environmentId: string } | undefined;
    if (request.environmentId !== undefined) {
      const stored = await this.options.environments.retrieve(request.environmentId);
      if (stored.archived_at !== null) {
        throw new ApiError('conflict_error', `Environment ${stored.id} is archived; it cannot start new sessions.`);
      }
      // A self-hosted environment's tools run on its own workers (its work queue), not in Keel's sandbox.
      if (stored.config.type === 'self_hosted') selfHosted = { environmentId: stored.id };
      else environment = toSandboxEnvironment(stored, 'environment_id');
    }
    if (selfHosted !== undefined && coordinator !== null && rosterOf(coordinator.multiagent) !== null) {
      throw invalidField(
        'environment_id',
        `environment ${selfHosted.environmentId} is self_hosted, and agent ${coordinator.id} coordinates a roster: ` +
          'Keel runs child threads in its own sandbox, so a coordinator session needs a Keel (cloud) environment',
      );
    }
    if (selfHosted !== undefined && resources.length > 0) {
      throw invalidField(
        'resources',
        `environment ${selfHosted.environmentId} is self_hosted: its workers run the tools, so a session there takes ` +
          "no resources (they live in Keel's sandbox)",
      );
    }
    // The model's list price is fixed for the session's life: a budget needs one (the hosted `model_not_budgetable`).
    const listPrice = listPriceFor(agent.model, this.options.limits.modelPrices);
    if (request.budget !== undefined && listPrice === null) {
      throw new ApiError(
        'invalid_request_error',
        `model_not_budgetable: budget: the session's model ${agent.model} has no list price in Keel's table ` +
          '(set one with KEEL_MODEL_PRICES)',
      );
    }
    const vaultIds = await this.options.vaults.forSession(request.vaultIds);
    await this.requireSendable(request.initialEvents, agent.model, 'initial_events');
    await this.requireOutcomeParts(request.initialEvents, 'initial_events');
    // The agent's skills at their versions now (`latest` resolved), fixed for the session's life.
    const skillMounts = agentView === null ? [] : await this.options.skills.forSession(agentView.skills);
    if (selfHosted !== undefined && skillMounts.length > 0) {
      throw invalidField(
        'agent.skills',
        `environment ${selfHosted.environmentId} is self_hosted: its workers run the tools, so the agent's skills ` +
          "(mounted in Keel's sandbox) cannot reach them",
      );
    }
    // The model sees the skills, then a note on each memory store, after the agent's system prompt (the session's
    // `agent` does not).
    agent = withMemoryNote(withSkillNote(agent, skillMounts), resources);
    // A coordinator's roster, at the versions it names; its `self` runs what the session's primary thread runs.
    const callableAgents =
      coordinator === null ? [] : await callableAgentsOf({ snapshot: agent, view: coordinator }, this.options.agents);
    if (coordinator !== null) agentView = toSessionAgentView(coordinator, callableAgents);
    const memoryMounts = resources.flatMap((resource) =>
      resource.type === 'memory_store'
        ? [{ memoryStoreId: resource.memory_store_id, mountPath: resource.mount_path, access: resource.access }]
        : [],
    );
    // The worker reads where the session's stores are mounted from the store; recorded before the Workflow exists.
    if (memoryMounts.length > 0) {
      await this.options.memoryStores.attachToSession(id, memoryMounts, new Date().toISOString());
    }
    await this.options.skills.attachToSession(id, skillMounts);
    // Tokens are sealed into the store before the Workflow hears of their repositories; the Workflow never sees one.
    for (const [resourceId, token] of tokens) await this.options.repositoryTokens.put(id, resourceId, token);
    const { limits, sandboxProvisioning, client } = this.options;
    const input: SessionWorkflowInput = {
      sessionId: id,
      agent,
      title: request.title,
      createdAt: new Date().toISOString(),
      limits,
      sandboxProvisioning,
      files: resources.flatMap((resource) =>
        resource.type === 'file' ? [{ fileId: resource.file_id, mountPath: resource.mount_path }] : [],
      ),
      ...(environment === undefined ? {} : { environment }),
      ...(vaultIds.length === 0 ? {} : { vaultIds }),
      ...(selfHosted === undefined ? {} : { selfHosted }),
      ...(request.budget === undefined ? {} : { budget: request.budget }),
      ...(listPrice === null ? {} : { listPrice }),
      ...(callableAgents.length === 0 ? {} : { callableAgents }),
    };
    // The session as its Workflow starts, before any task of it ran.
    const startSummary = newSessionSummary(input);
    const memo = {
      [WORKSPACE_MEMO_KEY]: currentWorkspaceId(),
      metadata: request.metadata,
      agent: agentView,
      environment_id: request.environmentId ?? null,
      resources,
      vault_ids: vaultIds,
      ...(request.deploymentId === undefined ? {} : { deployment_id: request.deploymentId }),
      // Listed from the start: `sessions.list` shows the session before its Workflow's first task publishes its own.
      [SESSION_LISTING_MEMO_KEY]: toSessionListing(startSummary, {
        startedAt: undefined,
        withDefaultAgent: agentView === null,
      }),
    };
    // Planned before the Workflow starts, so nothing that fails here leaves a session without its initial events.
    const initialEvents = initialEventsOf(
      planDelivery(request.initialEvents, new Map(), DELIVERY_IDS).map((step) => step.delivery),
    );
    await client.workflow
      .start<typeof sessionWorkflow>('sessionWorkflow', {
        workflowId: id,
        taskQueue: SESSION_TASK_QUEUE,
        args: [input],
        staticSummary: request.title ?? `Keel session with ${agent.name}`,
        memo,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.status, value: 'idle' },
          { key: SEARCH_ATTRIBUTES.agent, value: agent.id ?? agent.name },
          { key: SEARCH_ATTRIBUTES.agentVersion, value: agent.version },
          ...(memoryMounts.length === 0
            ? []
            : [{ key: SEARCH_ATTRIBUTES.memoryStores, value: memoryMounts.map((mount) => mount.memoryStoreId) }]),
          ...(request.deploymentId === undefined
            ? []
            : [{ key: SEARCH_ATTRIBUTES.deployment, value: request.deploymentId }]),
        ],
      })
      .catch(async (error: unknown) => {
        await this.options.repositoryTokens.deleteSession(id);
        throw error;
      });
    // Checked above; a new session waits for no answer and works on no outcome, so nothing here needs its worker.
    if (initialEvents.length > 0) await this.handle(id).signal(deliverInitialEventsSignal, initialEvents);
    // The session as its Workflow reports it once its first task ran, so a stream or a message that follows finds it
    // live (and a burst of creates waits for the worker rather than piling on it); when no worker answers within one
    // Query deadline, the session as it starts (its initial events, sent, wait for a worker): never a 504, which a
    // client would retry into a second session.
    const started = {
      workflowId: id,
      status: { name: 'RUNNING' },
      startTime: new Date(input.createdAt),
      memo,
    } as const;
    try {
      return toSessionView(
        started,
        await this.options.queries.run(id, getSessionQuery, [], undefined, CREATE_PATIENCE),
      );
    } catch (error) {
      if (!(error instanceof ApiError) || error.type !== 'timeout_error') throw error;
      return toSessionView(started, startSummary);
    }
  }

  /**
   * Checks the session's resources and returns them in the session object's shape, with the repositories' tokens
   * apart (by resource id): each file must exist (mount path default `/mnt/session/uploads/<file_id>`), each
   * repository URL must be one Keel clones from (mount path default `/workspace/<repository name>`), and no two
   * mount paths may collide.
   */
  private async sessionResources(
    requested: SessionResourceParams[],
  ): Promise<{ resources: SessionResourceRecord[]; tokens: Map<string, string> }> {
    const now = new Date().toISOString();
    const resources: SessionResourceRecord[] = [];
    const tokens = new Map<string, string>();
    const stores = await this.options.memoryStores.forSession(
      requested.flatMap((params, index) =>
        params.type === 'memory_store' ? [{ ...params, field: `resources[${index}]` }] : [],
      ),
    );
    for (const [index, params] of requested.entries()) {
      let resource: SessionResourceRecord;
      if (params.type === 'memory_store') {
        const store = stores.find((candidate) => candidate.memoryStoreId === params.memory_store_id);
        if (store === undefined) throw new Error(`memory store ${params.memory_store_id} was not checked`);
        resource = {
          id: newResourceId(),
          type: 'memory_store',
          memory_store_id: store.memoryStoreId,
          name: store.name,
          description: store.description,
          mount_path: store.mountPath,
          access: store.access,
          instructions: store.instructions,
        };
      } else if (params.type === 'github_repository') {
        resource = newRepositoryResource(params, this.options.repositoryHosts ?? [], `resources[${index}]`, now);
        if (params.authorization_token !== undefined) tokens.set(resource.id, params.authorization_token);
      } else {
        await this.options.files.retrieve(params.file_id);
        resource = {
          id: newResourceId(),
          type: 'file',
          file_id: params.file_id,
          mount_path: params.mount_path ?? `/mnt/session/uploads/${params.file_id}`,
          created_at: now,
          updated_at: now,
        };
      }
      if (resources.some((earlier) => earlier.mount_path === resource.mount_path)) {
        throw invalidField(
          `resources[${index}].mount_path`,
          `${resource.mount_path} is already used by another resource`,
        );
      }
      resources.push(resource);
    }
    return { resources, tokens };
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
   * Lists sessions through Temporal's visibility store: filters become a visibility query, and the page is chosen
   * here by the start of each session's first run and its id (`selectPage`), so `next_page` and `prev_page` cursors
   * work in either order and an archived session left out never shortens a page. A newest-first page reads about a
   * page of sessions (`readListedSessions`); an oldest-first or `prev_page` one reads those on its side of its cursor.
   * Each session of the page is built from the listing its Workflow keeps in its memo, without a call to the
   * Workflow; only sessions whose Workflow predates listings are retrieved one by one.
   */
  async list(
    request: SessionListRequest,
  ): Promise<{ data: SessionView[]; next_page: string | null; prev_page: string | null }> {
    const order = request.order ?? 'desc';
    const cursor = request.page === undefined ? null : decodeCursor(request.page);
    const createdAt = { ...request.createdAt };
    if (cursor !== null) {
      // The page lies after the cursor's session in listing order (or before it, for prev): newer when they agree.
      const newer = (cursor.direction === 'next') === (order === 'asc');
      if (newer) createdAt.gte = latest(createdAt.gte, cursor.key.startTime);
      else createdAt.lte = earliest(createdAt.lte, cursor.key.startTime);
    }
    const newestFirst = order === 'desc' && cursor?.direction !== 'prev';
    // Sessions carry their memory stores and deployment as search attributes from their creation; those created before
    // the attributes existed are found by the stores' own records of them (the most recent ones).
    const earlierMatches = {
      ...(request.memoryStoreId === undefined
        ? {}
        : { memoryStore: await this.options.memoryStores.sessionsOf(request.memoryStoreId, MAX_EARLIER_MATCHES) }),
      ...(request.deploymentId === undefined
        ? {}
        : {
            deployment:
              (await this.options.deploymentSessions?.sessionsOf(request.deploymentId, MAX_EARLIER_MATCHES)) ?? [],
          }),
    };
    const keys = await readListedSessions(
      this.options.client,
      { ...request, workspaceId: currentWorkspaceId(), earlierMatches },
      createdAt,
      newestFirst ? { wanted: request.limit + 1, olderThan: cursor?.key ?? null } : null,
    );
    const page = selectPage(keys, order, request.limit, cursor);
    const data = await Promise.all(
      page.items.map(async ({ id, execution }) => {
        const listing = sessionListingOf(execution.memo);
        return (listing === null ? null : toListedSessionView(execution, listing)) ?? (await this.get(id));
      }),
    );
    return {
      data,
      next_page: page.next === null ? null : encodeCursor(page.next),
      prev_page: page.prev === null ? null : encodeCursor(page.prev),
    };
  }

  /**
   * Changes the session's title, metadata and agent (its tools and MCP servers, while idle, from the next turn);
   * refused with 409 once the session has ended or is archived, or for an agent change while it runs.
   */
  async update(
    sessionId: string,
    change: Omit<UpdateSessionInput, 'agent'>,
    agentChange?: Pick<AgentOverrides, 'tools' | 'mcp_servers'>,
  ): Promise<SessionView> {
    const handle = this.handle(sessionId);
    await this.requireOpen(handle);
    const agent = agentChange === undefined ? undefined : await this.changedAgent(sessionId, agentChange);
    try {
      await updateWithDeadline(this.options.client, `the update of session ${sessionId}`, () =>
        handle.executeUpdate(updateSessionUpdate, { args: [{ ...change, ...(agent && { agent }) }] }),
      );
    } catch (error) {
      // The Workflow's validator refuses an agent change while a turn runs: the session's state, not the request.
      if (error instanceof WorkflowUpdateFailedError && (agent !== undefined || change.budget !== undefined)) {
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        // A refused budget is a bad request whose message begins with the hosted API's reason.
        if (BUDGET_REASONS.some((reason) => cause.startsWith(`${reason}:`))) {
          throw new ApiError('invalid_request_error', cause);
        }
        throw new ApiError('conflict_error', cause);
      }
      throw error;
    }
    return this.get(sessionId);
  }

  /** The session's agent with `change` applied, or `undefined` when it changes nothing. */
  private async changedAgent(
    sessionId: string,
    change: Pick<AgentOverrides, 'tools' | 'mcp_servers'>,
  ): Promise<UpdateSessionInput['agent']> {
    const description = await this.describe(this.handle(sessionId));
    const current = description.memo?.['agent'] as SessionAgentView | null | undefined;
    if (current === undefined || current === null) {
      throw invalidField('agent', "the session runs the server's default agent, which has no tools to change");
    }
    const { status } = await this.options.queries.run(sessionId, getSessionQuery, []);
    if (status !== 'idle') {
      throw new ApiError(
        'conflict_error',
        `Session ${sessionId} is ${status}; its agent can change only while it is idle.`,
      );
    }
    const definition: AgentDefinition = {
      name: current.name,
      description: current.description,
      model: current.model,
      system: current.system,
      tools: current.tools,
      mcp_servers: current.mcp_servers,
      skills: current.skills,
      metadata: {},
      execution_identity: current.execution_identity,
      multiagent: null,
    };
    const next = updatedAgentDefinition(definition, change);
    if (sameDefinition(next, definition)) return undefined;
    const stored = {
      id: current.id,
      workspaceId: currentWorkspaceId(),
      version: current.version,
      createdAt: '',
      updatedAt: '',
      archivedAt: null,
    };
    const view = toAgentView({ ...stored, definition: next });
    const resources = (description.memo?.['resources'] ?? []) as SessionResourceRecord[];
    const skills = await this.options.skills.sessionSkills(sessionId);
    const snapshot = withMemoryNote(withSkillNote(toAgentSnapshot({ ...stored, definition: next }), skills), resources);
    // The roster the session resolved at its creation stays as it was.
    return { snapshot, view: { ...toSessionAgentView(view), multiagent: current.multiagent } };
  }

  /** Archives the session: it accepts no new events from then on; archiving twice changes nothing. */
  async archive(sessionId: string): Promise<SessionView> {
    const handle = this.handle(sessionId);
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended; an ended session cannot be archived.`);
    }
    await updateWithDeadline(this.options.client, `the archiving of session ${sessionId}`, () =>
      handle.executeUpdate(archiveSessionUpdate),
    );
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
    // The child thread (multiagent) each answered call belongs to, for the echo of its answer.
    const threadOf = await this.requireAwaited(sessionId, events);
    await this.requireOutcomeDefinable(sessionId, events);
    if (events.some((event) => event.type === 'system.message' || hasFileMedia(event))) {
      await this.requireSendable(events, (await this.get(sessionId)).agent.model.id, 'events');
    }
    return this.deliver(handle, events, threadOf);
  }

  /**
   * Sends checked events to the session's Workflow as `planDelivery` plans them, one after the other, and answers
   * with their echoes, each stamped as it is sent; an Update the Workflow's validator refuses stops the rest (400).
   */
  private async deliver(
    handle: WorkflowHandle,
    events: UserEventRequest[],
    threadOf: Map<string, string>,
  ): Promise<SessionEvent[]> {
    const echoes: SessionEvent[] = [];
    for (const planned of planDelivery(events, threadOf, DELIVERY_IDS)) {
      const { delivery } = planned;
      const processedAt = new Date().toISOString();
      const updateId = delivery.id;
      switch (delivery.type) {
        case 'user.message': {
          const { type: _type, ...message } = delivery;
          await handle.signal(sendMessageSignal, message);
          break;
        }
        case 'user.interrupt': {
          const { type: _type, ...interrupt } = delivery;
          await handle.signal(interruptSessionSignal, interrupt);
          break;
        }
        case 'user.define_outcome': {
          const { type, ...outcome } = delivery;
          await this.executeAnswer(type, () =>
            handle.executeUpdate(defineOutcomeUpdate, { args: [outcome], updateId }),
          );
          break;
        }
        case 'user.tool_confirmation': {
          const { type, ...answer } = delivery;
          await this.executeAnswer(type, () =>
            handle.executeUpdate(toolConfirmationUpdate, { args: [answer], updateId }),
          );
          break;
        }
        case 'user.custom_tool_result': {
          const { type, ...answer } = delivery;
          await this.executeAnswer(type, () =>
            handle.executeUpdate(customToolResultUpdate, { args: [answer], updateId }),
          );
          break;
        }
        case 'user.tool_result': {
          const { type, ...answer } = delivery;
          await this.executeAnswer(type, () => handle.executeUpdate(toolResultUpdate, { args: [answer], updateId }));
          break;
        }
      }
      echoes.push(...planned.echoes(processedAt));
    }
    return echoes;
  }

  /**
   * Refuses (400 naming the field), before anything is sent, what the session cannot pass to its model: a
   * `system.message` for a model that takes no mid-conversation system messages, and an image or document whose
   * uploaded file is missing (404) or not of a type the model reads.
   */
  private async requireSendable(events: UserEventRequest[], model: string, field: string): Promise<void> {
    for (const [index, event] of events.entries()) {
      if (event.type === 'system.message' && !acceptsMidConversationSystem(model)) {
        throw invalidField(
          `${field}[${index}]`,
          `the session's model ${model} does not accept mid-conversation system messages, so it cannot take a ` +
            'system.message (Claude models take them from Opus 4.8 on)',
        );
      }
      if (event.type !== 'user.message') continue;
      for (const [blockIndex, block] of event.content.entries()) {
        if (block.type === 'text' || block.source.type !== 'file') continue;
        const path = `${field}[${index}].content[${blockIndex}].source.file_id`;
        await this.options.files.requireMedia(block.source.file_id, block.type, path);
      }
    }
  }

  /**
   * Refuses (400 naming the field), before anything is sent, what no session takes in `user.define_outcome`: a second
   * one in the same request (a session works on one outcome at a time), and a file rubric whose file is unknown or not
   * UTF-8 text. Checked before a session with `initial_events` is created, too.
   */
  private async requireOutcomeParts(events: UserEventRequest[], field: string): Promise<void> {
    const indexes = events.flatMap((event, index) => (event.type === 'user.define_outcome' ? [index] : []));
    if (indexes[1] !== undefined) {
      throw invalidField(
        `${field}[${indexes[1]}]`,
        'a session works on one outcome at a time: send at most one user.define_outcome per request',
      );
    }
    const index = indexes[0];
    const event = index === undefined ? undefined : events[index];
    if (event?.type === 'user.define_outcome' && event.rubric.type === 'file') {
      await this.options.files.requireRubric(event.rubric.file_id, `${field}[${index}].rubric.file_id`);
    }
  }

  /**
   * Refuses (400 naming the field) a `user.define_outcome` while an earlier outcome is still worked on (the hosted
   * rule: one at a time), before anything is sent; the Workflow's Update validator refuses it too, for a race.
   */
  private async requireOutcomeDefinable(sessionId: string, events: UserEventRequest[]): Promise<void> {
    await this.requireOutcomeParts(events, 'events');
    const index = events.findIndex((event) => event.type === 'user.define_outcome');
    if (index < 0) return;
    const summary = await this.options.queries.run(sessionId, getSessionQuery, []);
    const active = (summary.outcomeEvaluations ?? []).find((outcome) => !TERMINAL_OUTCOME_RESULTS.has(outcome.result));
    if (active !== undefined) {
      throw invalidField(
        `events[${index}]`,
        `outcome ${active.outcome_id} is still ${active.result}: a session works on one outcome at a time; define ` +
          'the next one after it ends (or send user.interrupt to end it)',
      );
    }
  }

  /** Refuses (400 naming the field) answers to tool calls the session is not waiting for, before any is sent. */
  private async requireAwaited(sessionId: string, events: UserEventRequest[]): Promise<Map<string, string>> {
    const threadOf = new Map<string, string>();
    if (!events.some(isAnswer)) return threadOf;
    const interrupt = events.findIndex((event) => event.type === 'user.interrupt');
    if (interrupt >= 0) {
      throw invalidField(
        `events[${interrupt}]`,
        'an interrupt ends the wait for tool answers, so it cannot be sent in one batch with them',
      );
    }
    const summary = await this.options.queries.run(sessionId, getSessionQuery, []);
    const waiting = new Map((summary.awaiting ?? []).map((call) => [call.eventId, call.resolvedBy]));
    for (const call of summary.awaiting ?? [])
      if (call.threadId !== undefined) threadOf.set(call.eventId, call.threadId);
    events.forEach((event, index) => {
      if (!isAnswer(event)) return;
      const field = ANSWER_FIELDS[event.type];
      const eventId = event.type === 'user.custom_tool_result' ? event.custom_tool_use_id : event.tool_use_id;
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
    return threadOf;
  }

  /**
   * Runs an answer's Update under `updateWithDeadline`; a refusal by the Workflow's validator (a race with another
   * answer) becomes a 400.
   */
  private async executeAnswer(type: UserEventRequest['type'], update: () => Promise<unknown>): Promise<void> {
    try {
      await updateWithDeadline(this.options.client, `the ${type} event`, update);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        throw new ApiError('invalid_request_error', cause);
      }
      throw error;
    }
  }

  /**
   * Ends the session (its sandbox and workspace volume are removed), waits for the Workflow to complete, and forgets
   * its repository tokens.
   */
  async end(sessionId: string): Promise<void> {
    const handle = this.handle(sessionId);
    // An archived session can still be deleted: it may hold a sandbox, or wait for tool answers it can no longer get.
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended already.`);
    }
    await handle.signal(endSessionSignal);
    try {
      await Promise.race([
        handle.result(),
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new ApiError('api_error', 'The session did not end in time.')),
            END_TIMEOUT_MS,
          ).unref(),
        ),
      ]);
    } finally {
      await this.options.repositoryTokens.deleteSession(sessionId);
    }
  }

  private handle(sessionId: string): WorkflowHandle<typeof sessionWorkflow> {
    if (!isSessionId(sessionId)) {
      throw new ApiError('invalid_request_error', `session_id: expected a session id (sesn_…), got "${sessionId}"`);
    }
    return this.options.client.workflow.getHandle<typeof sessionWorkflow>(sessionId);
  }

  /**
   * The session's description; a 404 for an unknown session and for a session of another workspace than the
   * request's, which the request must not learn exists.
   */
  private async describe(handle: WorkflowHandle): Promise<Awaited<ReturnType<WorkflowHandle['describe']>>> {
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw sessionNotFound(handle.workflowId);
      throw error;
    }
    const workspaceId = workspaceOfMemo(description.memo);
    this.workspaces.set(handle.workflowId, workspaceId, handle.workflowId.length);
    if (workspaceId !== currentWorkspaceId()) throw sessionNotFound(handle.workflowId);
    return description;
  }

  /**
   * Whether the session exists in another workspace than `workspaceId` (a session's workspace never changes, so it is
   * remembered); `false` for an unknown or malformed id, which the routes answer as they always did.
   */
  async isForeign(sessionId: string, workspaceId: string): Promise<boolean> {
    if (!isSessionId(sessionId)) return false;
    let owner = this.workspaces.get(sessionId);
    if (owner === undefined) {
      try {
        owner = workspaceOfMemo((await this.handle(sessionId).describe()).memo);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
      this.workspaces.set(sessionId, owner, sessionId.length);
    }
    return owner !== workspaceId;
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

function newEventId(): string {
  return `${ID_PREFIXES.event}${randomBytes(16).toString('hex')}`;
}

function newOutcomeId(): string {
  return `${ID_PREFIXES.outcome}${randomBytes(16).toString('hex')}`;
}

/** Random event and outcome ids, for `planDelivery`. */
const DELIVERY_IDS: DeliveryIds = { eventId: newEventId, outcomeId: newOutcomeId };

/** The results after which an outcome is over (the session object's `outcome_evaluations[].result`). */
const TERMINAL_OUTCOME_RESULTS: ReadonlySet<string> = new Set([
  'satisfied',
  'failed',
  'max_iterations_reached',
  'interrupted',
]);

/** Whether `event` is a user message with an image or document sent by reference to an uploaded file. */
function hasFileMedia(event: UserEventRequest): boolean {
  return (
    event.type === 'user.message' &&
    event.content.some((block) => block.type !== 'text' && block.source.type === 'file')
  );
}

function latest(a: string | undefined, b: string): string {
  return a === undefined || Date.parse(b) > Date.parse(a) ? b : a;
}

function earliest(a: string | undefined, b: string): string {
  return a === undefined || Date.parse(b) < Date.parse(a) ? b : a;
}

function sessionNotFound(sessionId: string): ApiError {
  return new ApiError('not_found_error', `No session ${sessionId}.`);
}
