import { createHash } from 'node:crypto';
import type { BetaManagedAgentsDeployment } from '@anthropic-ai/sdk/resources/beta/deployments';
import type { BetaManagedAgentsDeploymentRun } from '@anthropic-ai/sdk/resources/beta/deployment-runs';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import type { ScheduledDeploymentRunInput } from '../../common/deployment';
import { ApiError, invalidField } from '../api-error';
import type { AgentService } from '../agents/agent-service';
import type { EnvironmentService } from '../environments/environment-service';
import type { FileService } from '../files/file-service';
import type { MemoryStoreService } from '../memory-stores/memory-store-service';
import { toPageResponse } from '../page-query';
import { isResourceId, newResourceId, requireResourceId } from '../resource-ids';
import { checkedResourceMetadata, patchedResourceMetadata } from '../resource-metadata';
import type { SessionService, UserEventRequest } from '../sessions/session-service';
import type { SessionResourceParams } from '../sessions/resources/session-resource-schemas';
import type {
  ControlPlaneStore,
  DeploymentDefinition,
  PageRequest,
  StoredDeployment,
  StoredDeploymentRun,
} from '../store/control-plane-store';
import type { VaultService } from '../vaults/vault-service';
import type { CreateDeploymentBody, UpdateDeploymentBody } from './deployment-request-schemas';
import type { DeploymentSchedules } from './deployment-schedules';
import { toDeploymentRunView, toDeploymentView } from './deployment-view';
import { filteredPage, withinBounds } from './filtered-page';

/** A page in the SDK's `PageCursor` shape. */
export interface Page<Item> {
  data: Item[];
  next_page: string | null;
}

/** Filters of the deployment list. */
export interface DeploymentListRequest extends PageRequest {
  agentId?: string | undefined;
  status?: 'active' | 'paused' | undefined;
  includeArchived: boolean;
  createdAt: { gte?: string | undefined; lte?: string | undefined };
}

/** Filters of the deployment run list. */
export interface DeploymentRunListRequest extends PageRequest {
  deploymentId?: string | undefined;
  hasError?: boolean | undefined;
  triggerType?: 'manual' | 'schedule' | undefined;
  createdAt: { gt?: string | undefined; gte?: string | undefined; lt?: string | undefined; lte?: string | undefined };
}

/** What `DeploymentService` works with. */
export interface DeploymentServiceOptions {
  agents: AgentService;
  environments: EnvironmentService;
  vaults: VaultService;
  files: FileService;
  memoryStores: MemoryStoreService;
  sessions: SessionService;
  /** The deployments' Temporal Schedules. */
  schedules: DeploymentSchedules;
}

/** A run's error: its type (one of the SDK's run error types) and a message. */
type RunError = NonNullable<StoredDeploymentRun['error']>;

/** Run errors that do not pause a schedule: the next fire may succeed (the SDK's paused reasons leave them out). */
const NON_PAUSING_ERRORS = new Set(['session_rate_limited_error', 'session_creation_rejected_error']);

/** The most recent sessions of a deployment that `sessions.list?deployment_id=` looks among. */
export const MAX_LISTED_DEPLOYMENT_SESSIONS = 1_000;

/**
 * Deployments (`client.beta.deployments`) and their runs (`client.beta.deploymentRuns`) on the control-plane store,
 * with a Temporal Schedule per scheduled deployment. A run creates a session exactly as `sessions.create` would from
 * the deployment's agent, environment, resources, vaults and initial events, and is recorded with what it created or
 * why it could not.
 */
export class DeploymentService {
  constructor(
    private readonly store: ControlPlaneStore,
    private readonly options: DeploymentServiceOptions,
  ) {}

  /** Creates a deployment (its references checked) and, with a `schedule`, its Temporal Schedule. */
  async create(body: CreateDeploymentBody): Promise<BetaManagedAgentsDeployment> {
    const now = new Date().toISOString();
    const definition: DeploymentDefinition = {
      name: body.name,
      description: body.description ?? null,
      agent: await this.pinnedAgent(body.agent),
      environment_id: body.environment_id,
      resources: body.resources ?? [],
      vault_ids: body.vault_ids ?? [],
      initial_events: body.initial_events,
      metadata: checkedResourceMetadata(body.metadata ?? {}),
      schedule: body.schedule ?? null,
      paused_reason: null,
      last_run_at: null,
      budget: body.budget ?? null,
    };
    await this.checkReferences(definition, body);
    const deployment: StoredDeployment = {
      id: newResourceId('deployment'),
      // The workspace-scoped store puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      definition,
    };
    await this.store.deployments.insert(deployment);
    const stored = await this.find(deployment.id);
    try {
      await this.syncSchedule(stored);
    } catch (error) {
      // A schedule Temporal refuses leaves no deployment behind.
      await this.store.deployments.delete(stored.id);
      throw error;
    }
    return this.view(stored);
  }

  /** The deployment, or a 404. */
  async retrieve(deploymentId: string): Promise<BetaManagedAgentsDeployment> {
    return this.view(await this.find(deploymentId));
  }

  /** Applies an update (full replacement of the fields given, a metadata patch); 409 once archived. */
  async update(deploymentId: string, body: UpdateDeploymentBody): Promise<BetaManagedAgentsDeployment> {
    const current = await this.find(deploymentId);
    if (current.archivedAt !== null) throw archived(deploymentId, 'it cannot be updated');
    const was = current.definition;
    const next: DeploymentDefinition = {
      ...was,
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.description === undefined ? {} : { description: body.description || null }),
      ...(body.agent === undefined ? {} : { agent: await this.pinnedAgent(body.agent) }),
      ...(body.environment_id === undefined ? {} : { environment_id: body.environment_id }),
      ...(body.initial_events === undefined ? {} : { initial_events: body.initial_events }),
      ...(body.resources === undefined ? {} : { resources: body.resources ?? [] }),
      ...(body.vault_ids === undefined ? {} : { vault_ids: body.vault_ids ?? [] }),
      ...(body.schedule === undefined ? {} : { schedule: body.schedule }),
      ...(body.budget === undefined ? {} : { budget: body.budget }),
      metadata: checkedResourceMetadata(patchedResourceMetadata(was.metadata, body.metadata)),
    };
    await this.checkReferences(next, {
      environment_id: body.environment_id,
      vault_ids: body.vault_ids ?? undefined,
      resources: body.resources ?? undefined,
    });
    const changed = JSON.stringify(next) !== JSON.stringify(was);
    const updated = await this.store.deployments.update(deploymentId, (stored) => {
      if (stored.archivedAt !== null) throw archived(deploymentId, 'it cannot be updated');
      return changed ? { ...stored, definition: next, updatedAt: new Date().toISOString() } : stored;
    });
    if (updated === null) throw notFound(deploymentId);
    if (JSON.stringify(next.schedule) !== JSON.stringify(was.schedule)) await this.syncSchedule(updated);
    return this.view(updated);
  }

  /** Deployments, newest first, filtered as asked. */
  async list(request: DeploymentListRequest): Promise<Page<BetaManagedAgentsDeployment>> {
    if (request.status !== undefined && request.includeArchived) {
      throw invalidField('status', 'cannot be combined with include_archived');
    }
    const page = await filteredPage(
      (page) => this.store.deployments.list({ ...page, includeArchived: request.includeArchived }),
      (deployment) =>
        (request.agentId === undefined || deployment.definition.agent.id === request.agentId) &&
        (request.status === undefined || statusOf(deployment) === request.status) &&
        withinBounds(deployment.createdAt, request.createdAt),
      request,
    );
    return { data: await Promise.all(page.items.map((item) => this.view(item))), next_page: page.nextCursor };
  }

  /** Archives the deployment and deletes its Schedule; archiving twice returns it as it is. */
  async archive(deploymentId: string): Promise<BetaManagedAgentsDeployment> {
    await this.find(deploymentId);
    const now = new Date().toISOString();
    const updated = await this.store.deployments.update(deploymentId, (stored) =>
      stored.archivedAt === null ? { ...stored, archivedAt: now, updatedAt: now } : stored,
    );
    if (updated === null) throw notFound(deploymentId);
    await this.options.schedules.remove(deploymentId);
    return this.view(updated);
  }

  /** Pauses the deployment (`paused_reason` manual) and its Schedule; pausing a paused one changes nothing. */
  async pause(deploymentId: string): Promise<BetaManagedAgentsDeployment> {
    const updated = await this.setPausedReason(deploymentId, { type: 'manual' }, 'paused');
    await this.options.schedules.setPaused(deploymentId, true, 'paused through the API');
    return this.view(updated);
  }

  /** Unpauses the deployment (whatever paused it) and its Schedule. */
  async unpause(deploymentId: string): Promise<BetaManagedAgentsDeployment> {
    const updated = await this.setPausedReason(deploymentId, null, 'unpaused');
    await this.options.schedules.setPaused(deploymentId, false, 'unpaused through the API');
    return this.view(updated);
  }

  /** Runs the deployment now (allowed while paused): records the run, with its session or its error, and answers it. */
  async run(deploymentId: string): Promise<BetaManagedAgentsDeploymentRun> {
    const deployment = await this.find(deploymentId);
    if (deployment.archivedAt !== null) throw archived(deploymentId, 'it cannot run');
    return toDeploymentRunView(await this.fire(deployment, { type: 'manual' }));
  }

  /**
   * A fire of the deployment's Schedule (in the deployment's workspace): runs it unless it is archived or paused,
   * records when it last ran, and pauses it when the run failed for a reason the next fire would meet again. At most
   * one run is recorded per fire (an Activity retry finds the run its first attempt recorded).
   */
  async runScheduled(input: Required<ScheduledDeploymentRunInput>): Promise<BetaManagedAgentsDeploymentRun | null> {
    const deployment = await this.store.deployments.get(input.deploymentId);
    if (deployment === null || deployment.archivedAt !== null || deployment.definition.paused_reason !== null) {
      return null;
    }
    const runId = fireRunId(input.fireId);
    const earlier = await this.store.deploymentRuns.get(runId);
    if (earlier !== null) return toDeploymentRunView(earlier);
    const startedAt = new Date().toISOString();
    const run = await this.fire(deployment, { type: 'schedule', scheduled_at: input.scheduledAt }, runId);
    const pauses = run.error !== null && !NON_PAUSING_ERRORS.has(run.error.type);
    await this.store.deployments.update(input.deploymentId, (stored) => ({
      ...stored,
      updatedAt: pauses ? new Date().toISOString() : stored.updatedAt,
      definition: {
        ...stored.definition,
        last_run_at: startedAt,
        ...(pauses && run.error !== null ? { paused_reason: { type: 'error', error: { type: run.error.type } } } : {}),
      },
    }));
    if (pauses) {
      await this.options.schedules.setPaused(input.deploymentId, true, `paused: a run failed (${run.error?.type})`);
    }
    return toDeploymentRunView(run);
  }

  /** The run, or a 404. */
  async retrieveRun(runId: string): Promise<BetaManagedAgentsDeploymentRun> {
    requireResourceId('deployment_run', runId, 'deployment_run_id');
    const run = await this.store.deploymentRuns.get(runId);
    if (run === null) throw new ApiError('not_found_error', `No deployment run ${runId}.`);
    return toDeploymentRunView(run);
  }

  /** Runs, newest first, filtered as asked (an unknown `deployment_id` lists none). */
  async listRuns(request: DeploymentRunListRequest): Promise<Page<BetaManagedAgentsDeploymentRun>> {
    const page = await filteredPage(
      (page) => this.store.deploymentRuns.list({ ...page, includeArchived: true }),
      (run) =>
        (request.deploymentId === undefined || run.deploymentId === request.deploymentId) &&
        (request.hasError === undefined || (run.error !== null) === request.hasError) &&
        (request.triggerType === undefined || run.triggerContext.type === request.triggerType) &&
        withinBounds(run.createdAt, request.createdAt),
      request,
    );
    return toPageResponse(page, toDeploymentRunView);
  }

  /** The ids of the sessions the deployment created, newest first (at most `limit`). */
  async sessionsOf(deploymentId: string, limit: number): Promise<string[]> {
    if (!isResourceId('deployment', deploymentId)) return [];
    const page = await filteredPage(
      (page) => this.store.deploymentRuns.list({ ...page, includeArchived: true }),
      (run) => run.deploymentId === deploymentId && run.sessionId !== null,
      { limit, cursor: null },
    );
    return page.items.flatMap((run) => (run.sessionId === null ? [] : [run.sessionId]));
  }

  /** Creates the deployment's session and records the run, with the session or the error that stopped it. */
  private async fire(
    deployment: StoredDeployment,
    trigger: StoredDeploymentRun['triggerContext'],
    runId: string = newResourceId('deployment_run'),
  ): Promise<StoredDeploymentRun> {
    const { definition } = deployment;
    let sessionId: string | null = null;
    let error: RunError | null = await this.preflight(definition);
    if (error === null) {
      try {
        const session = await this.options.sessions.create({
          agent: { id: definition.agent.id, version: definition.agent.version },
          environmentId: definition.environment_id,
          title: null,
          metadata: {},
          initialEvents: definition.initial_events as unknown as UserEventRequest[],
          resources: definition.resources as unknown as SessionResourceParams[],
          vaultIds: definition.vault_ids,
          ...(definition.budget === null ? {} : { budget: definition.budget }),
          deploymentId: deployment.id,
        });
        sessionId = session.id;
      } catch (failure) {
        error = runErrorOf(failure);
      }
    }
    const now = new Date().toISOString();
    const run: StoredDeploymentRun = {
      id: runId,
      workspaceId: deployment.workspaceId,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      deploymentId: deployment.id,
      agent: definition.agent,
      sessionId,
      error,
      triggerContext: trigger,
    };
    await this.store.deploymentRuns.insert(run);
    return run;
  }

  /** Why a session cannot be created from `definition` now, in the SDK's run error types, or `null`. */
  private async preflight(definition: DeploymentDefinition): Promise<RunError | null> {
    const agent = await this.store.agents.get(definition.agent.id, definition.agent.version);
    if (agent === null) {
      return { type: 'session_creation_rejected_error', message: `Agent ${definition.agent.id} no longer exists.` };
    }
    if (agent.archivedAt !== null) {
      return { type: 'agent_archived_error', message: `Agent ${definition.agent.id} is archived.` };
    }
    const environment = await this.store.environments.get(definition.environment_id);
    if (environment === null) {
      return {
        type: 'environment_not_found_error',
        message: `Environment ${definition.environment_id} no longer exists.`,
      };
    }
    if (environment.archivedAt !== null) {
      return { type: 'environment_archived_error', message: `Environment ${definition.environment_id} is archived.` };
    }
    for (const vaultId of definition.vault_ids) {
      const vault = await this.store.vaults.get(vaultId);
      if (vault === null) return { type: 'vault_not_found_error', message: `Vault ${vaultId} no longer exists.` };
      if (vault.archivedAt !== null) return { type: 'vault_archived_error', message: `Vault ${vaultId} is archived.` };
    }
    for (const resource of definition.resources) {
      if (resource['type'] === 'file' && (await this.store.files.get(String(resource['file_id']))) === null) {
        return { type: 'file_not_found_error', message: `File ${String(resource['file_id'])} no longer exists.` };
      }
      if (resource['type'] === 'memory_store') {
        const storeId = String(resource['memory_store_id']);
        const memoryStore = await this.store.memoryStores.getStore(storeId);
        if (memoryStore === null) {
          return { type: 'session_resource_not_found_error', message: `Memory store ${storeId} no longer exists.` };
        }
        if (memoryStore.archivedAt !== null) {
          return { type: 'memory_store_archived_error', message: `Memory store ${storeId} is archived.` };
        }
      }
    }
    return null;
  }

  /** The agent reference pinned to a version: the latest for a bare id; the agent must exist and not be archived. */
  private async pinnedAgent(agent: CreateDeploymentBody['agent']): Promise<DeploymentDefinition['agent']> {
    const id = typeof agent === 'string' ? agent : agent.id;
    const version = typeof agent === 'string' ? undefined : agent.version;
    const found = await asField('agent', this.options.agents.retrieve(id, version));
    if (found.archived_at !== null) throw invalidField('agent', `agent ${id} is archived`);
    return { type: 'agent', id: found.id, version: found.version };
  }

  /** Checks what the deployment references that `given` names (all of it on create): each must exist, unarchived. */
  private async checkReferences(
    definition: DeploymentDefinition,
    given: {
      environment_id?: string | undefined;
      vault_ids?: string[] | undefined;
      resources?: CreateDeploymentBody['resources'];
    },
  ): Promise<void> {
    if (given.environment_id !== undefined) {
      await asField('environment_id', this.options.environments.forSession(definition.environment_id));
    }
    if (given.vault_ids !== undefined) await asField('vault_ids', this.options.vaults.forSession(definition.vault_ids));
    for (const [index, resource] of (given.resources ?? []).entries()) {
      if (resource.type === 'file') await asField(`resources[${index}]`, this.options.files.retrieve(resource.file_id));
      if (resource.type === 'memory_store') {
        const memoryStore = await asField(
          `resources[${index}]`,
          this.options.memoryStores.find(resource.memory_store_id, `resources[${index}].memory_store_id`),
        );
        if (memoryStore.archivedAt !== null) {
          throw invalidField(`resources[${index}]`, `memory store ${memoryStore.id} is archived`);
        }
      }
    }
  }

  /** Sets `paused_reason` (`null`: active); 409 once archived. */
  private async setPausedReason(
    deploymentId: string,
    reason: DeploymentDefinition['paused_reason'],
    what: string,
  ): Promise<StoredDeployment> {
    await this.find(deploymentId);
    const updated = await this.store.deployments.update(deploymentId, (stored) => {
      if (stored.archivedAt !== null) throw archived(deploymentId, `it cannot be ${what}`);
      const same = JSON.stringify(stored.definition.paused_reason) === JSON.stringify(reason);
      // Pausing keeps the reason a paused deployment already has.
      if (same || (reason !== null && stored.definition.paused_reason !== null)) return stored;
      return {
        ...stored,
        updatedAt: new Date().toISOString(),
        definition: { ...stored.definition, paused_reason: reason },
      };
    });
    if (updated === null) throw notFound(deploymentId);
    return updated;
  }

  /** Makes the Temporal Schedule match the deployment (created, changed or deleted). */
  private async syncSchedule(deployment: StoredDeployment): Promise<void> {
    const { schedule, paused_reason: pausedReason } = deployment.definition;
    await this.options.schedules.apply(
      deployment.id,
      deployment.workspaceId,
      schedule === null || deployment.archivedAt !== null ? null : { cron: schedule, paused: pausedReason !== null },
    );
  }

  private async view(deployment: StoredDeployment): Promise<BetaManagedAgentsDeployment> {
    const scheduled = deployment.definition.schedule !== null && deployment.archivedAt === null;
    const described = scheduled ? await this.options.schedules.describe(deployment.id) : null;
    return toDeploymentView(deployment, described?.upcoming ?? []);
  }

  private async find(deploymentId: string): Promise<StoredDeployment> {
    requireResourceId('deployment', deploymentId, 'deployment_id');
    const deployment = await this.store.deployments.get(deploymentId);
    if (deployment === null) throw notFound(deploymentId);
    return deployment;
  }
}

/** The run id of a scheduled fire: `drun_` and 24 base62 characters of the SHA-256 of the fire's Workflow run id. */
function fireRunId(fireId: string): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let value = BigInt(`0x${createHash('sha256').update(fireId).digest('hex')}`);
  let suffix = '';
  while (suffix.length < 24) {
    suffix += alphabet.charAt(Number(value % 62n));
    value /= 62n;
  }
  return `drun_${suffix}`;
}

/** The deployment's status: `paused` exactly when it has a paused reason and is not archived. */
function statusOf(deployment: StoredDeployment): 'active' | 'paused' {
  return deployment.archivedAt === null && deployment.definition.paused_reason !== null ? 'paused' : 'active';
}

/** A reference that is unknown (404) or unusable (409) is a 400 naming the field that holds it. */
async function asField<Result>(field: string, check: Promise<Result>): Promise<Result> {
  try {
    return await check;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 409)) {
      // Messages that already name the field (`vault_ids[1]: no vault …`) keep their own.
      if (error.message.startsWith(field)) throw new ApiError('invalid_request_error', error.message);
      throw invalidField(field, error.message);
    }
    throw error;
  }
}

/** A failed session creation in the SDK's run error types. */
function runErrorOf(error: unknown): RunError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError) {
    if (error.status === 429) return { type: 'session_rate_limited_error', message };
    if (error.status < 500) return { type: 'session_creation_rejected_error', message };
  }
  return { type: 'unknown_error', message };
}

function notFound(deploymentId: string): ApiError {
  return new ApiError('not_found_error', `No deployment ${deploymentId}.`);
}

function archived(deploymentId: string, what: string): ApiError {
  return new ApiError('conflict_error', `Deployment ${deploymentId} is archived; ${what}.`);
}
