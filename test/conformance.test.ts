import Anthropic, { toFile } from '@anthropic-ai/sdk';
import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsAgentReference,
  BetaManagedAgentsMultiagentCoordinator,
  BetaManagedAgentsSessionThreadAgent,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type {
  BetaEnvironment,
  BetaEnvironmentDeleteResponse,
} from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type {
  BetaSelfHostedWork,
  BetaSelfHostedWorkHeartbeatResponse,
  BetaSelfHostedWorkQueueStats,
} from '@anthropic-ai/sdk/resources/beta/environments/work';
import type { BetaDeletedFile, BetaFileMetadata } from '@anthropic-ai/sdk/resources/beta/files';
import type {
  BetaManagedAgentsDeletedMemory,
  BetaManagedAgentsMemory,
  BetaManagedAgentsMemoryPrefix,
} from '@anthropic-ai/sdk/resources/beta/memory-stores/memories';
import type {
  BetaManagedAgentsDeletedMemoryStore,
  BetaManagedAgentsMemoryStore,
} from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores';
import type { BetaManagedAgentsMemoryVersion } from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-versions';
import type {
  BetaManagedAgentsAgentMessageEvent,
  BetaManagedAgentsSessionStatusIdleEvent,
  BetaManagedAgentsUserMessageEvent,
} from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type {
  BetaManagedAgentsDeleteSessionResource,
  BetaManagedAgentsFileResource,
  BetaManagedAgentsGitHubRepositoryResource,
  BetaManagedAgentsMemoryStoreResource,
  ResourceAddParams,
} from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import type { BetaMonetaryAmount } from '@anthropic-ai/sdk/resources/beta/beta';
import type {
  BetaManagedAgentsBudgetLimit,
  BetaManagedAgentsDeletedSession,
  BetaManagedAgentsSession,
  BetaManagedAgentsSessionAgent,
  BetaManagedAgentsSessionMultiagentCoordinator,
  BetaManagedAgentsSessionStats,
  BetaManagedAgentsSessionUsage,
} from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { BetaManagedAgentsSessionThread } from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import type {
  BetaManagedAgentsCredential,
  BetaManagedAgentsCredentialValidation,
  BetaManagedAgentsDeletedCredential,
} from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import type {
  BetaManagedAgentsDeletedVault,
  BetaManagedAgentsVault,
} from '@anthropic-ai/sdk/resources/beta/vaults/vaults';
import type { BetaDeletedSkill, BetaSkill } from '@anthropic-ai/sdk/resources/beta/skills/skills';
import type { BetaDeletedSkillVersion, BetaSkillVersion } from '@anthropic-ai/sdk/resources/beta/skills/versions';
import type { BetaDream } from '@anthropic-ai/sdk/resources/beta/dreams';
import type { BetaManagedAgentsDeployment } from '@anthropic-ai/sdk/resources/beta/deployments';
import type { BetaManagedAgentsDeploymentRun } from '@anthropic-ai/sdk/resources/beta/deployment-runs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keys } from '../cli/keys';
import { shapeProblems, threadStatsShape, threadUsageShape } from './support/conformance';
import type { Shape } from './support/conformance';
import { allSessionEvents, rejection, sdkClient, untilIdleAfter, untilLog } from './support/sdk';
import {
  defineOutcomeShape,
  evaluationEndShape,
  evaluationOngoingShape,
  evaluationStartShape,
  outcomeEvaluationShape,
  spanUsageShape,
} from './support/outcome-shapes';
import { GRADER_TOOL_NAME } from '../common/outcome';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const time = 'string' as const;
const metadata = 'object' as const;

const agentShape: Shape<BetaManagedAgentsAgent> = {
  id: { id: 'agent_' },
  type: { literal: 'agent' },
  version: 'number',
  name: 'string',
  description: ['string', 'null'],
  model: 'object',
  system: ['string', 'null'],
  tools: 'array',
  mcp_servers: 'array',
  skills: 'array',
  metadata,
  execution_identity: 'object',
  multiagent: ['null', 'object'],
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

// A session's agent is the agent version without its timestamps and metadata.
const {
  created_at: _created,
  updated_at: _updated,
  archived_at: _archived,
  metadata: _metadata,
  ...agentFields
} = agentShape;
const sessionAgentShape: Shape<BetaManagedAgentsSessionAgent> = agentFields;

const usageShape: Shape<BetaManagedAgentsSessionUsage> = {
  input_tokens: 'number',
  output_tokens: 'number',
  cache_read_input_tokens: 'number',
  cache_creation: 'object',
  active_seconds: 'number',
  list_cost: ['absent', 'null', 'object'],
  server_tool_use: ['absent', 'null', 'object'],
};

const moneyShape: Shape<BetaMonetaryAmount> = { amount: 'string', currency: { literal: 'USD' } };
const budgetShape: Shape<BetaManagedAgentsBudgetLimit> = { type: { literal: 'limit' }, max_list_cost: 'object' };

const statsShape: Shape<BetaManagedAgentsSessionStats> = { active_seconds: 'number', duration_seconds: 'number' };

const sessionShape: Shape<BetaManagedAgentsSession> = {
  id: { id: 'sesn_' },
  type: { literal: 'session' },
  status: 'string',
  title: ['string', 'null'],
  metadata,
  agent: 'object',
  environment_id: { id: 'env_' },
  resources: 'array',
  vault_ids: 'array',
  budget: ['null', 'object'],
  outcome_evaluations: 'array',
  usage: 'object',
  stats: 'object',
  deployment_id: ['absent', 'null', 'string'],
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

// A thread's agent is the session's agent without `multiagent` (a thread runs one agent).
const { multiagent: _multiagent, ...threadAgentFields } = sessionAgentShape;
const threadAgentShape: Shape<BetaManagedAgentsSessionThreadAgent> = threadAgentFields;

// A coordinator's roster: references on the agent, full definitions on its session's agent.
const coordinatorShape: Shape<BetaManagedAgentsMultiagentCoordinator> = {
  type: { literal: 'coordinator' },
  agents: 'array',
};
const agentReferenceShape: Shape<BetaManagedAgentsAgentReference> = {
  id: { id: 'agent_' },
  type: { literal: 'agent' },
  version: 'number',
};
const sessionCoordinatorShape: Shape<BetaManagedAgentsSessionMultiagentCoordinator> = coordinatorShape;

const threadShape: Shape<BetaManagedAgentsSessionThread> = {
  id: { id: 'sthr_' },
  type: { literal: 'session_thread' },
  session_id: { id: 'sesn_' },
  status: 'string',
  agent: 'object',
  parent_thread_id: 'null',
  workflow_run_id: 'null',
  stats: ['object', 'null'],
  usage: ['object', 'null'],
  created_at: time,
  updated_at: time,
  archived_at: 'null',
};

const environmentShape: Shape<BetaEnvironment> = {
  id: { id: 'env_' },
  type: { literal: 'environment' },
  name: 'string',
  description: ['string', 'null'],
  config: 'object',
  metadata,
  scope: ['absent', 'string'],
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

const vaultShape: Shape<BetaManagedAgentsVault> = {
  id: { id: 'vlt_' },
  type: { literal: 'vault' },
  display_name: 'string',
  metadata,
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

const credentialShape: Shape<BetaManagedAgentsCredential> = {
  id: { id: 'vcrd_' },
  type: { literal: 'vault_credential' },
  vault_id: { id: 'vlt_' },
  auth: 'object',
  display_name: ['absent', 'string', 'null'],
  metadata,
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

const credentialValidationShape: Shape<BetaManagedAgentsCredentialValidation> = {
  type: { literal: 'vault_credential_validation' },
  credential_id: { id: 'vcrd_' },
  vault_id: { id: 'vlt_' },
  status: 'string',
  has_refresh_token: 'boolean',
  mcp_probe: ['object', 'null'],
  refresh: ['object', 'null'],
  validated_at: time,
};

const fileShape: Shape<BetaFileMetadata> = {
  id: { id: 'file_' },
  type: { literal: 'file' },
  filename: 'string',
  mime_type: 'string',
  size_bytes: 'number',
  created_at: time,
  downloadable: ['absent', 'boolean'],
  expires_at: ['absent', 'string', 'null'],
  scope: ['absent', 'object', 'null'],
};

const fileResourceShape: Shape<BetaManagedAgentsFileResource> = {
  id: { id: 'sesrsc_' },
  type: { literal: 'file' },
  file_id: { id: 'file_' },
  mount_path: 'string',
  created_at: time,
  updated_at: time,
};

const repositoryResourceShape: Shape<BetaManagedAgentsGitHubRepositoryResource> = {
  id: { id: 'sesrsc_' },
  type: { literal: 'github_repository' },
  url: 'string',
  checkout: ['null', 'object'],
  mount_path: 'string',
  created_at: time,
  updated_at: time,
};

const userMessageShape: Shape<BetaManagedAgentsUserMessageEvent> = {
  id: { id: 'sevt_' },
  type: { literal: 'user.message' },
  content: 'array',
  processed_at: ['string', 'null'],
};

const agentMessageShape: Shape<BetaManagedAgentsAgentMessageEvent> = {
  id: { id: 'sevt_' },
  type: { literal: 'agent.message' },
  content: 'array',
  processed_at: 'string',
};

const idleShape: Shape<BetaManagedAgentsSessionStatusIdleEvent> = {
  id: { id: 'sevt_' },
  type: { literal: 'session.status_idle' },
  stop_reason: 'object',
  stop_details: ['absent', 'null', 'object'],
  processed_at: 'string',
};

const workShape: Shape<BetaSelfHostedWork> = {
  id: { id: 'work_' },
  type: { literal: 'work' },
  environment_id: { id: 'env_' },
  data: 'object',
  state: 'string',
  created_at: time,
  acknowledged_at: ['string', 'null'],
  started_at: ['string', 'null'],
  latest_heartbeat_at: ['string', 'null'],
  stop_requested_at: ['string', 'null'],
  stopped_at: ['string', 'null'],
  metadata,
  secret: 'null',
};

const heartbeatShape: Shape<BetaSelfHostedWorkHeartbeatResponse> = {
  type: { literal: 'work_heartbeat' },
  last_heartbeat: 'string',
  lease_extended: 'boolean',
  state: 'string',
  ttl_seconds: 'number',
};

const workStatsShape: Shape<BetaSelfHostedWorkQueueStats> = {
  type: { literal: 'work_queue_stats' },
  depth: 'number',
  pending: 'number',
  oldest_queued_at: ['string', 'null'],
  workers_polling: ['number', 'null'],
};

const memoryStoreShape: Shape<BetaManagedAgentsMemoryStore> = {
  id: { id: 'memstore_' },
  type: { literal: 'memory_store' },
  name: 'string',
  description: 'string',
  metadata,
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

const memoryShape: Shape<BetaManagedAgentsMemory> = {
  id: { id: 'mem_' },
  type: { literal: 'memory' },
  memory_store_id: { id: 'memstore_' },
  memory_version_id: { id: 'memver_' },
  path: 'string',
  content: ['string', 'null'],
  content_sha256: 'string',
  content_size_bytes: 'number',
  created_at: time,
  updated_at: time,
};

const memoryStoreResourceShape: Shape<BetaManagedAgentsMemoryStoreResource> = {
  type: { literal: 'memory_store' },
  memory_store_id: { id: 'memstore_' },
  name: 'string',
  description: 'string',
  mount_path: 'string',
  access: 'string',
  instructions: ['string', 'null'],
};

const memoryPrefixShape: Shape<BetaManagedAgentsMemoryPrefix> = { type: { literal: 'memory_prefix' }, path: 'string' };

const memoryVersionShape: Shape<BetaManagedAgentsMemoryVersion> = {
  id: { id: 'memver_' },
  type: { literal: 'memory_version' },
  memory_id: { id: 'mem_' },
  memory_store_id: { id: 'memstore_' },
  operation: 'string',
  path: ['string', 'null'],
  content: ['string', 'null'],
  content_sha256: ['string', 'null'],
  content_size_bytes: ['number', 'null'],
  created_at: time,
  created_by: ['object', 'null'],
  redacted_at: ['string', 'null'],
  redacted_by: ['object', 'null'],
};

const skillShape: Shape<BetaSkill> = {
  id: { id: 'skill_' },
  type: { literal: 'skill' },
  display_name: 'string',
  latest_version_id: { id: 'skillver_' },
  source: 'object',
  created_at: time,
  updated_at: time,
};

const skillVersionShape: Shape<BetaSkillVersion> = {
  id: { id: 'skillver_' },
  type: { literal: 'skill_version' },
  skill_id: { id: 'skill_' },
  name: 'string',
  description: 'string',
  created_at: time,
};

const dreamShape: Shape<BetaDream> = {
  id: { id: 'drm_' },
  type: { literal: 'dream' },
  status: 'string',
  inputs: 'array',
  outputs: 'array',
  model: 'object',
  instructions: ['string', 'null'],
  output_behavior: 'object',
  session_id: ['string', 'null'],
  created_at: time,
  ended_at: ['string', 'null'],
  archived_at: ['string', 'null'],
  usage: 'object',
  error: ['object', 'null'],
};

const deploymentShape: Shape<BetaManagedAgentsDeployment> = {
  id: { id: 'depl_' },
  type: { literal: 'deployment' },
  name: 'string',
  description: ['string', 'null'],
  agent: 'object',
  environment_id: 'string',
  initial_events: 'array',
  metadata,
  resources: 'array',
  vault_ids: 'array',
  schedule: ['object', 'null'],
  status: 'string',
  paused_reason: ['object', 'null'],
  budget: ['absent', 'null', 'object'],
  created_at: time,
  updated_at: time,
  archived_at: ['string', 'null'],
};

const deploymentRunShape: Shape<BetaManagedAgentsDeploymentRun> = {
  id: { id: 'drun_' },
  type: { literal: 'deployment_run' },
  deployment_id: 'string',
  agent: 'object',
  session_id: ['string', 'null'],
  error: ['object', 'null'],
  trigger_context: 'object',
  created_at: time,
};

function deletedShape<T extends { id: string; type?: string }>(prefix: string, type: string): Shape<T> {
  return { id: { id: prefix }, type: { literal: type } } as Shape<T>;
}

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  // The scripted model gets a list price, so sessions can carry a budget and a list cost.
  harness = await startTestStack({ environment: { KEEL_MODEL_PRICES: 'scripted-model=3/15/3.75/6/0.3' } });
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

describe('conformance: every route Keel serves, through the official SDK 1.16, checked against its types', () => {
  it('answers with objects of the SDK shapes and the hosted id prefixes', async () => {
    const problems: string[] = [];
    const check = <T>(value: unknown, shape: Shape<T>, name: string, extensions: string[] = []): void => {
      problems.push(...shapeProblems(value, shape, name, extensions));
    };

    const agent = await client.beta.agents.create({ name: 'conformance', model: 'scripted-model', tools: [] });
    check(agent, agentShape, 'agents.create');
    check(await client.beta.agents.retrieve(agent.id), agentShape, 'agents.retrieve');
    check(await client.beta.agents.update(agent.id, { version: 1, system: 'v2' }), agentShape, 'agents.update');
    for (const item of (await client.beta.agents.list()).data) check(item, agentShape, 'agents.list');
    for (const item of (await client.beta.agents.versions.list(agent.id)).data) check(item, agentShape, 'versions');

    const environment = await client.beta.environments.create({ name: 'conf', config: { type: 'cloud' } });
    check(environment, environmentShape, 'environments.create');
    check(await client.beta.environments.retrieve(environment.id), environmentShape, 'environments.retrieve');
    check(await client.beta.environments.update(environment.id, { description: 'd' }), environmentShape, 'env.update');
    for (const item of (await client.beta.environments.list()).data) check(item, environmentShape, 'env.list');

    const coordinator = await client.beta.agents.create({
      name: 'conformance coordinator',
      model: 'scripted-model',
      tools: [],
      multiagent: { type: 'coordinator', agents: [agent.id, { type: 'self' }] },
    });
    check(coordinator, agentShape, 'agents.create coordinator');
    check(coordinator.multiagent, coordinatorShape, 'agent.multiagent');
    const roster = coordinator.multiagent?.type === 'coordinator' ? coordinator.multiagent.agents : [];
    expect(roster).toHaveLength(2);
    for (const entry of roster) check(entry, agentReferenceShape, 'agent.multiagent.agents[]');
    const coordinated = await client.beta.sessions.create({ agent: coordinator.id, environment_id: environment.id });
    check(coordinated.agent, sessionAgentShape, 'session.agent coordinator');
    check(coordinated.agent.multiagent, sessionCoordinatorShape, 'session.agent.multiagent');
    const members = coordinated.agent.multiagent?.type === 'coordinator' ? coordinated.agent.multiagent.agents : [];
    expect(members).toHaveLength(2);
    for (const member of members) check(member, threadAgentShape, 'session.agent.multiagent.agents[]');
    await client.beta.sessions.delete(coordinated.id);

    const vault = await client.beta.vaults.create({ display_name: 'conf vault' });
    check(vault, vaultShape, 'vaults.create');
    check(await client.beta.vaults.retrieve(vault.id), vaultShape, 'vaults.retrieve');
    check(await client.beta.vaults.update(vault.id, { display_name: 'renamed' }), vaultShape, 'vaults.update');
    for (const item of (await client.beta.vaults.list()).data) check(item, vaultShape, 'vaults.list');
    const credential = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'secret-token', mcp_server_url: 'https://mcp.example.com/mcp' },
    });
    check(credential, credentialShape, 'credentials.create');
    expect(JSON.stringify(credential)).not.toContain('secret-token');
    check(
      await client.beta.vaults.credentials.retrieve(credential.id, { vault_id: vault.id }),
      credentialShape,
      'credentials.retrieve',
    );
    for (const item of (await client.beta.vaults.credentials.list(vault.id)).data) {
      check(item, credentialShape, 'credentials.list');
    }
    // An mcp_oauth credential for a loopback port nothing listens on: the live probe answers `unknown` at once.
    const oauthCredential = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'mcp_oauth', access_token: 'oauth-secret-token', mcp_server_url: 'http://127.0.0.1:9/mcp' },
    });
    const validation = await client.beta.vaults.credentials.mcpOAuthValidate(oauthCredential.id, {
      vault_id: vault.id,
    });
    check(validation, credentialValidationShape, 'credentials.mcpOAuthValidate');
    expect(validation).toMatchObject({ status: 'unknown', mcp_probe: { method: 'initialize', http_response: null } });

    const file = await client.beta.files.upload({ file: await toFile(Buffer.from('conformance'), 'c.txt') });
    check(file, fileShape, 'files.upload');
    check(await client.beta.files.retrieveMetadata(file.id), fileShape, 'files.retrieveMetadata');
    for (const item of (await client.beta.files.list()).data) check(item, fileShape, 'files.list');

    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      resources: [{ type: 'file', file_id: file.id }],
      vault_ids: [vault.id],
    });
    check(session, sessionShape, 'sessions.create');
    check(session.agent, sessionAgentShape, 'session.agent');
    check(session.usage, usageShape, 'session.usage');
    // Keel's documented extensions: the log's length and the messages waiting for the running turn.
    check(session.stats, statsShape, 'session.stats', ['event_count', 'queued_messages']);
    check(session.resources[0], fileResourceShape, 'session.resources[0]');
    check(await client.beta.sessions.retrieve(session.id), sessionShape, 'sessions.retrieve');
    check(await client.beta.sessions.update(session.id, { title: 'conf' }), sessionShape, 'sessions.update');
    for (const item of (await client.beta.sessions.list({ limit: 5 })).data) check(item, sessionShape, 'sessions.list');
    const budgeted = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      budget: { type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' } },
    });
    check(budgeted, sessionShape, 'sessions.create budget');
    check(budgeted.budget, budgetShape, 'session.budget');
    check(budgeted.budget?.max_list_cost, moneyShape, 'session.budget.max_list_cost');
    check(budgeted.usage.list_cost, moneyShape, 'session.usage.list_cost');
    const rebudgeted = await client.beta.sessions.update(budgeted.id, {
      budget: { type: 'limit', max_list_cost: { amount: '5000', currency: 'USD' } },
    });
    check(rebudgeted, sessionShape, 'sessions.update budget');
    check(rebudgeted.budget, budgetShape, 'sessions.update session.budget');
    for (const item of (await client.beta.sessions.list({ limit: 5 })).data) check(item, sessionShape, 'sessions.list');

    const resource = await client.beta.sessions.resources.add(session.id, {
      type: 'file',
      file_id: file.id,
      mount_path: '/mnt/c',
    });
    check(resource, fileResourceShape, 'resources.add');
    check(
      await client.beta.sessions.resources.retrieve(resource.id, { session_id: session.id }),
      fileResourceShape,
      'resources.retrieve',
    );
    for (const item of (await client.beta.sessions.resources.list(session.id)).data) {
      check(item, fileResourceShape, 'resources.list');
    }
    check(
      await client.beta.sessions.resources.delete(resource.id, { session_id: session.id }),
      deletedShape<BetaManagedAgentsDeleteSessionResource>('sesrsc_', 'session_resource_deleted'),
      'resources.delete',
    );
    // A repository resource (never cloned here: no sandbox tool runs), added, rotated, listed and deleted.
    const repository = await client.beta.sessions.resources.add(session.id, {
      type: 'github_repository',
      url: 'https://github.com/anthropics/anthropic-sdk-typescript',
      authorization_token: 'conformance-token',
      checkout: { type: 'branch', name: 'main' },
    } as unknown as ResourceAddParams);
    check(repository, repositoryResourceShape, 'resources.add github_repository');
    check(
      await client.beta.sessions.resources.update(repository.id, {
        session_id: session.id,
        authorization_token: 'rotated-token',
      }),
      repositoryResourceShape,
      'resources.update',
    );
    for (const item of (await client.beta.sessions.resources.list(session.id)).data) {
      if (item.type === 'github_repository') check(item, repositoryResourceShape, 'resources.list github_repository');
    }
    check(
      await client.beta.sessions.resources.delete(repository.id, { session_id: session.id }),
      deletedShape<BetaManagedAgentsDeleteSessionResource>('sesrsc_', 'session_resource_deleted'),
      'resources.delete github_repository',
    );

    harness.model.enqueue({ kind: 'text', text: 'conforming' });
    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
    });
    check(sent.data?.[0], userMessageShape, 'events.send');
    const events = await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
    for (const event of events) {
      if (event.type === 'user.message') check(event, userMessageShape, 'events.list user.message');
      if (event.type === 'agent.message') check(event, agentMessageShape, 'events.list agent.message');
      if (event.type === 'session.status_idle') check(event, idleShape, 'events.list session.status_idle');
      if (!/^sevt_/.test(event.id)) problems.push(`events.list ${event.type}: id ${event.id}`);
    }

    // The session's primary thread (Keel's only thread per session) and its events, which are the session's.
    const threads = (await client.beta.sessions.threads.list(session.id)).data;
    expect(threads).toHaveLength(1);
    const threadId = threads[0]?.id ?? '';
    for (const thread of [
      ...threads,
      await client.beta.sessions.threads.retrieve(threadId, { session_id: session.id }),
    ]) {
      check(thread, threadShape, 'threads');
      check(thread.agent, threadAgentShape, 'thread.agent');
      check(thread.stats, threadStatsShape, 'thread.stats');
      check(thread.usage, threadUsageShape, 'thread.usage');
    }
    const threadEvents = (await client.beta.sessions.threads.events.list(threadId, { session_id: session.id })).data;
    expect(threadEvents.map((event) => event.id)).toEqual(events.map((event) => event.id));
    const archiveThread = await rejection(client.beta.sessions.threads.archive(threadId, { session_id: session.id }));
    expect(archiveThread).toBeInstanceOf(Anthropic.BadRequestError);

    // An outcome: the agent's turn, then the grader's forced verdict call (the scripted model answers in order).
    harness.model.enqueue(
      { kind: 'text', text: 'outcome work' },
      { kind: 'tool_use', name: GRADER_TOOL_NAME, input: { result: 'satisfied', explanation: 'met' } },
    );
    const defined = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.define_outcome', description: 'conform', rubric: { type: 'text', content: '- conform' } }],
    });
    check(defined.data?.[0], defineOutcomeShape, 'events.send user.define_outcome');
    const outcomeEvents = await untilLog(client, session.id, (logged) => {
      const end = logged.findIndex((event) => event.type === 'span.outcome_evaluation_end');
      return end >= 0 && logged.slice(end).some((event) => event.type === 'session.status_idle');
    });
    for (const type of [
      'user.define_outcome',
      'span.outcome_evaluation_start',
      'span.outcome_evaluation_ongoing',
      'span.outcome_evaluation_end',
    ]) {
      expect(outcomeEvents.map((event) => event.type)).toContain(type);
    }
    for (const event of outcomeEvents) {
      if (event.type === 'user.define_outcome') check(event, defineOutcomeShape, 'events.list user.define_outcome');
      if (event.type === 'span.outcome_evaluation_start') check(event, evaluationStartShape, 'events.list eval start');
      if (event.type === 'span.outcome_evaluation_ongoing') {
        check(event, evaluationOngoingShape, 'events.list eval ongoing');
      }
      if (event.type === 'span.outcome_evaluation_end') {
        check(event, evaluationEndShape, 'events.list eval end');
        check(event.usage, spanUsageShape, 'events.list eval end usage');
      }
    }
    const evaluated = await client.beta.sessions.retrieve(session.id);
    expect(evaluated.outcome_evaluations).toHaveLength(1);
    for (const item of evaluated.outcome_evaluations) check(item, outcomeEvaluationShape, 'outcome_evaluations');
    check(await client.beta.sessions.archive(session.id), sessionShape, 'sessions.archive');

    check(
      await client.beta.sessions.delete(session.id),
      deletedShape<BetaManagedAgentsDeletedSession>('sesn_', 'session_deleted'),
      'sessions.delete',
    );
    check(
      await client.beta.vaults.credentials.delete(credential.id, { vault_id: vault.id }),
      deletedShape<BetaManagedAgentsDeletedCredential>('vcrd_', 'vault_credential_deleted'),
      'credentials.delete',
    );
    check(
      await client.beta.vaults.delete(vault.id),
      deletedShape<BetaManagedAgentsDeletedVault>('vlt_', 'vault_deleted'),
      'vaults.delete',
    );
    check(await client.beta.agents.archive(agent.id), agentShape, 'agents.archive');
    check(await client.beta.environments.archive(environment.id), environmentShape, 'environments.archive');
    check(
      await client.beta.environments.delete(environment.id),
      deletedShape<BetaEnvironmentDeleteResponse>('env_', 'environment_deleted'),
      'environments.delete',
    );
    check(
      await client.beta.files.delete(file.id),
      deletedShape<BetaDeletedFile>('file_', 'file_deleted'),
      'files.delete',
    );
    expect(problems).toEqual([]);
    expect((await allSessionEvents(client, session.id)).at(-1)?.type).toBe('session.deleted');
  });

  it("serves a self-hosted environment's work queue in the SDK's shapes", async () => {
    const problems: string[] = [];
    const check = <T>(value: unknown, shape: Shape<T>, name: string): void => {
      problems.push(...shapeProblems(value, shape, name));
    };
    const environment = await client.beta.environments.create({ name: 'hosted', config: { type: 'self_hosted' } });
    check(environment, environmentShape, 'environments.create self_hosted');
    const lines: string[] = [];
    await keys(harness.config, ['create', 'conf', '--environment', environment.id], (line) => lines.push(line));
    const worker = new Anthropic({
      baseURL: harness.stack.apiUrl,
      authToken: lines[0]?.split(' ')[1] ?? '',
      apiKey: null,
      maxRetries: 0,
    });
    const agent = await client.beta.agents.create({
      name: 'conformance worker',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
    });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'true' } });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'work' }] }],
    });
    const work = worker.beta.environments.work;
    let item: BetaSelfHostedWork | null = null;
    for (let attempt = 0; item === null && attempt < 60; attempt++)
      item = await work.poll(environment.id, { block_ms: 999 });
    check(item, workShape, 'work.poll');
    const id = item?.id ?? '';
    const params = { environment_id: environment.id };
    check(await work.stats(environment.id), workStatsShape, 'work.stats');
    check(await work.ack(id, params), workShape, 'work.ack');
    check(
      await work.heartbeat(id, { ...params, expected_last_heartbeat: 'NO_HEARTBEAT' }),
      heartbeatShape,
      'work.heartbeat',
    );
    for (const listed of (await work.list(environment.id)).data) check(listed, workShape, 'work.list');
    check(await client.beta.environments.work.retrieve(id, params), workShape, 'work.retrieve');
    check(
      await client.beta.environments.work.update(id, { ...params, metadata: { a: 'b' } }),
      workShape,
      'work.update',
    );
    check(await work.stop(id, { ...params, force: true }), workShape, 'work.stop');
    await client.beta.sessions.delete(session.id);
    expect(problems).toEqual([]);
  });

  it('serves memory stores, memories and memory versions (14 methods) in the SDK shapes', async () => {
    const problems: string[] = [];
    const check = <T>(value: unknown, shape: Shape<T>, name: string, extensions: string[] = []): void => {
      problems.push(...shapeProblems(value, shape, name, extensions));
    };
    const stores = client.beta.memoryStores;
    const store = await stores.create({ name: 'Conformance memory', description: 'd', metadata: { a: 'b' } });
    check(store, memoryStoreShape, 'memoryStores.create');
    check(await stores.retrieve(store.id), memoryStoreShape, 'memoryStores.retrieve');
    check(await stores.update(store.id, { description: 'e' }), memoryStoreShape, 'memoryStores.update');
    for (const item of (await stores.list()).data) check(item, memoryStoreShape, 'memoryStores.list');

    const params = { memory_store_id: store.id };
    const memory = await stores.memories.create(store.id, { path: '/dir/notes.md', content: 'hello' });
    check(memory, memoryShape, 'memories.create');
    check(await stores.memories.retrieve(memory.id, params), memoryShape, 'memories.retrieve');
    check(await stores.memories.update(memory.id, { ...params, content: 'changed' }), memoryShape, 'memories.update');
    for (const item of (await stores.memories.list(store.id, { view: 'full' })).data) {
      check(item, memoryShape, 'memories.list');
    }
    for (const item of (await stores.memories.list(store.id, { depth: 1 })).data) {
      check(item, memoryPrefixShape, 'memories.list depth 1');
    }
    const versions = (await stores.memoryVersions.list(store.id, { view: 'full' })).data;
    for (const item of versions) check(item, memoryVersionShape, 'memoryVersions.list');
    check(
      await stores.memoryVersions.retrieve(memory.memory_version_id, params),
      memoryVersionShape,
      'memoryVersions.retrieve',
    );
    check(
      await stores.memoryVersions.redact(memory.memory_version_id, params),
      memoryVersionShape,
      'memoryVersions.redact',
    );
    check(
      await stores.memories.delete(memory.id, params),
      deletedShape<BetaManagedAgentsDeletedMemory>('mem_', 'memory_deleted'),
      'memories.delete',
    );
    // A session mounts the store; Keel's one extension is the resource's `id` (sesrsc_), as its other resources have.
    const agent = await client.beta.agents.create({ name: 'conformance memory', model: 'scripted-model', tools: [] });
    const environment = await client.beta.environments.create({ name: 'conf memory', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      resources: [{ type: 'memory_store', memory_store_id: store.id, access: 'read_only' }],
    });
    check(session, sessionShape, 'sessions.create memory_store');
    check(session.resources[0], memoryStoreResourceShape, 'session.resources[0] memory_store', ['id']);
    const resourceId = (session.resources[0] as { id?: string } | undefined)?.id ?? '';
    if (!/^sesrsc_/.test(resourceId)) problems.push(`memory_store resource id: ${resourceId}`);
    for (const item of (await client.beta.sessions.resources.list(session.id)).data) {
      check(item, memoryStoreResourceShape, 'resources.list memory_store', ['id']);
    }
    check(
      await client.beta.sessions.resources.retrieve(resourceId, { session_id: session.id }),
      memoryStoreResourceShape,
      'resources.retrieve memory_store',
      ['id'],
    );
    for (const item of (await client.beta.sessions.list({ memory_store_id: store.id })).data) {
      check(item, sessionShape, 'sessions.list memory_store_id');
    }
    await client.beta.sessions.delete(session.id);
    check(await stores.archive(store.id), memoryStoreShape, 'memoryStores.archive');
    check(
      await stores.delete(store.id),
      deletedShape<BetaManagedAgentsDeletedMemoryStore>('memstore_', 'memory_store_deleted'),
      'memoryStores.delete',
    );
    expect(versions).toHaveLength(2);
    expect(problems).toEqual([]);
  });

  it('serves skills and skill versions (9 methods) in the SDK shapes, and agents that name them', async () => {
    const problems: string[] = [];
    const check = <T>(value: unknown, shape: Shape<T>, name: string, extensions: string[] = []): void => {
      problems.push(...shapeProblems(value, shape, name, extensions));
    };
    const upload = async (description: string): Promise<File[]> => [
      await toFile(
        Buffer.from(`---\nname: conformance-skill\ndescription: ${description}\n---\nBody.\n`),
        'c/SKILL.md',
      ),
      await toFile(Buffer.from('echo hi\n'), 'c/scripts/hi.sh'),
    ];
    const skill = await client.beta.skills.create({ files: await upload('First.'), display_name: 'Conformance' });
    check(skill, skillShape, 'skills.create');
    expect(skill.source).toEqual({ type: 'custom' });
    check(await client.beta.skills.retrieve(skill.id), skillShape, 'skills.retrieve');
    for (const item of (await client.beta.skills.list()).data) check(item, skillShape, 'skills.list');
    const version = await client.beta.skills.versions.create(skill.id, { files: await upload('Second.') });
    check(version, skillVersionShape, 'skills.versions.create');
    const params = { skill_id: skill.id };
    check(await client.beta.skills.versions.retrieve(version.id, params), skillVersionShape, 'versions.retrieve');
    for (const item of (await client.beta.skills.versions.list(skill.id)).data) {
      check(item, skillVersionShape, 'skills.versions.list');
    }
    const download = await client.beta.skills.versions.download(version.id, params);
    expect(download.headers.get('content-type')).toBe('application/zip');
    expect(new Uint8Array(await download.arrayBuffer()).subarray(0, 2)).toEqual(new Uint8Array([0x50, 0x4b]));
    const agent = await client.beta.agents.create({
      name: 'skilled conformance',
      model: 'scripted-model',
      skills: [{ type: 'custom', skill_id: skill.id, version: version.id }],
    });
    check(agent, agentShape, 'agents.create with skills');
    expect(agent.skills).toEqual([{ type: 'custom', skill_id: skill.id, version: version.id }]);
    check(
      await client.beta.skills.versions.delete(version.id, params),
      deletedShape<BetaDeletedSkillVersion>('skillver_', 'skill_version_deleted'),
      'skills.versions.delete',
    );
    check(
      await client.beta.skills.delete(skill.id),
      deletedShape<BetaDeletedSkill>('skill_', 'skill_deleted'),
      'skills.delete',
    );
    expect(problems).toEqual([]);
  });

  it('serves dreams (5 methods) in the SDK shapes', async () => {
    const problems: string[] = [];
    const check = (value: unknown, name: string): void => {
      problems.push(...shapeProblems(value, dreamShape, name, []));
    };
    const store = await client.beta.memoryStores.create({ name: 'Conformance dream' });
    harness.model.enqueue({ kind: 'text', text: 'Nothing to reorganise.' });
    const dream = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: store.id }],
      model: 'scripted-model',
    });
    check(dream, 'dreams.create');
    await vi.waitFor(
      async () => {
        const current = await client.beta.dreams.retrieve(dream.id);
        if (current.status !== 'completed') throw new Error(`dream ${dream.id} is ${current.status}`);
      },
      { timeout: 60_000, interval: 200 },
    );
    check(await client.beta.dreams.retrieve(dream.id), 'dreams.retrieve');
    for (const item of (await client.beta.dreams.list()).data) check(item, 'dreams.list');
    expect((await rejection(client.beta.dreams.cancel(dream.id))).status).toBe(400);
    check(await client.beta.dreams.archive(dream.id), 'dreams.archive');
    harness.model.enqueue({ kind: 'hang' });
    const running = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: store.id }],
      model: 'scripted-model',
    });
    // Canceled once its session has taken the hanging reply, so no reply is left for a later test.
    await vi.waitFor(
      () => {
        if (harness.model.remaining() > 0) throw new Error('the dream has not called the model yet');
      },
      { timeout: 30_000, interval: 100 },
    );
    check(await client.beta.dreams.cancel(running.id), 'dreams.cancel');
    expect(problems).toEqual([]);
  }, 90_000);

  it('serves deployments (8 methods) and deployment runs (2 methods) in the SDK shapes', async () => {
    const problems: string[] = [];
    const check = <T>(value: unknown, shape: Shape<T>, name: string): void => {
      problems.push(...shapeProblems(value, shape, name, []));
    };
    const agent = await client.beta.agents.create({ name: 'Conformance deployed', model: 'scripted-model' });
    const environment = await client.beta.environments.create({ name: 'deployed', config: { type: 'cloud' } });
    const deployment = await client.beta.deployments.create({
      name: 'Conformance',
      agent: agent.id,
      environment_id: environment.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Deployed hello.' }] }],
      schedule: { type: 'cron', expression: '0 9 * * 1-5', timezone: 'Europe/Paris' },
    });
    check(deployment, deploymentShape, 'deployments.create');
    check(await client.beta.deployments.retrieve(deployment.id), deploymentShape, 'deployments.retrieve');
    check(await client.beta.deployments.update(deployment.id, { name: 'Renamed' }), deploymentShape, 'update');
    for (const item of (await client.beta.deployments.list()).data) check(item, deploymentShape, 'deployments.list');
    check(await client.beta.deployments.pause(deployment.id), deploymentShape, 'deployments.pause');
    check(await client.beta.deployments.unpause(deployment.id), deploymentShape, 'deployments.unpause');
    harness.model.enqueue({ kind: 'text', text: 'Deployed reply.' });
    const run = await client.beta.deployments.run(deployment.id);
    check(run, deploymentRunShape, 'deployments.run');
    // The run's session takes its reply before the next test scripts its own.
    await vi.waitFor(
      () => {
        if (harness.model.remaining() > 0) throw new Error("the deployment's session has not called the model yet");
      },
      { timeout: 30_000, interval: 100 },
    );
    check(await client.beta.deploymentRuns.retrieve(run.id), deploymentRunShape, 'deploymentRuns.retrieve');
    for (const item of (await client.beta.deploymentRuns.list()).data) {
      check(item, deploymentRunShape, 'deploymentRuns.list');
    }
    check(await client.beta.deployments.archive(deployment.id), deploymentShape, 'deployments.archive');
    expect(problems).toEqual([]);
  });

  it('answers 404 in the Anthropic error shape for a route Keel does not serve', async () => {
    const error = await rejection(client.get('/v1/sessions/sesn_000000000000/no_such_resource'));
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error.error).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: expect.stringContaining('No route') },
    });
  });
});
