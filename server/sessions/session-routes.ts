import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SessionService } from './session-service';
import { invalidField } from '../api-error';
import { mcpServersParams, modelParams, skillsParams } from '../agents/agent-request-schemas';
import type { AgentOverrides } from '../agents/agent-service';
import { agentToolsParams } from '../agents/agent-tool-schemas';
import { initialUserEvent, refineEventOrder } from './events/event-request-schemas';
import { sessionResource } from './resources/session-resource-schemas';
import { parseOrThrow } from '../validation';
import { withContract } from '../openapi/route-contract';

const agentWithOverrides = z
  .object({
    type: z.literal('agent_with_overrides'),
    id: z.string().min(1),
    version: z.number().int().min(1).optional(),
    model: modelParams.optional(),
    system: z.string().max(100_000).nullable().optional(),
    tools: agentToolsParams.optional(),
    mcp_servers: mcpServersParams.optional(),
    skills: skillsParams.optional(),
  })
  .strict();

const agentReference = z.union(
  [
    z.string().min(1),
    z.object({ type: z.literal('agent'), id: z.string().min(1), version: z.number().int().min(1).optional() }).strict(),
    agentWithOverrides,
  ],
  {
    error: (issue) => {
      const input = issue.input as { type?: unknown } | undefined;
      if (typeof input !== 'object' || input === null) return 'expected an agent id or an agent object';
      if (input.type === 'agent_with_overrides') {
        const problem = agentWithOverrides.safeParse(input).error?.issues[0];
        return problem === undefined ? undefined : `${problem.path.join('.')}: ${problem.message}`;
      }
      return "expected an agent id, {type: 'agent', id, version?} or {type: 'agent_with_overrides', id, …}";
    },
  },
);
/** `agent` of a session update: its tools and MCP servers, each replaced whole when given (while the session is idle). */
const sessionAgentUpdate = z
  .object({
    tools: agentToolsParams.optional(),
    mcp_servers: mcpServersParams.optional(),
  })
  .strict();

/**
 * A session's `budget` (`BetaManagedAgentsBudgetLimit`): a limit in whole US cents, written as a string with no
 * leading zeros and greater than zero, as the hosted API takes it.
 */
const budgetLimit = z
  .object({
    type: z.literal('limit', { error: "expected 'limit'" }),
    max_list_cost: z
      .object({
        amount: z
          .string({ error: 'expected a string of whole cents' })
          .regex(
            /^[1-9]\d{0,17}$/,
            'expected a whole number of US cents greater than zero, as a string with no leading zeros (such as "2500" ' +
              'for $25.00)',
          ),
        currency: z.literal('USD', { error: 'expected USD, the only currency supported' }),
      })
      .strict(),
  })
  .strict();

const createSessionBody = z
  .object({
    agent: agentReference.optional(),
    environment_id: z.string().min(1).optional(),
    title: z.string().max(500).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
    initial_events: z
      .array(initialUserEvent)
      .max(50)
      .superRefine((events, context) => refineEventOrder(events, context, []))
      .optional(),
    vault_ids: z.array(z.string()).optional(),
    resources: z.array(sessionResource).max(100).optional(),
    budget: budgetLimit.optional(),
  })
  .strict();

const time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' });
const status = z.enum(['rescheduling', 'running', 'idle', 'terminated']);

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    page: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'page must be a cursor returned by the previous page')
      .optional(),
    order: z.enum(['asc', 'desc'], { error: 'expected asc or desc' }).default('desc'),
    agent_id: z
      .string()
      .regex(/^agent_[A-Za-z0-9]+$/, 'expected an agent id (agent_…)')
      .optional(),
    agent_version: z.coerce
      .number({ error: 'expected an agent version number' })
      .int('expected an agent version number')
      .min(1, 'agent versions start at 1')
      .optional(),
    deployment_id: z
      .string()
      .regex(/^depl_[0-9A-Za-z]{8,64}$/, 'expected a deployment id (depl_…)')
      .optional(),
    memory_store_id: z
      .string()
      .regex(/^memstore_[0-9A-Za-z]{8,64}$/, 'expected a memory store id (memstore_…)')
      .optional(),
    'statuses[]': z.union([status, z.array(status)]).optional(),
    statuses: z.union([status, z.array(status)]).optional(),
    include_archived: z.enum(['true', 'false']).default('false'),
    'created_at[gt]': time.optional(),
    'created_at[gte]': time.optional(),
    'created_at[lt]': time.optional(),
    'created_at[lte]': time.optional(),
  })
  .loose();

const updateSessionBody = z
  .object({
    title: z.string().max(500).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512).nullable()).nullable().optional(),
    agent: sessionAgentUpdate.optional(),
    vault_ids: z.array(z.string()).max(0, "a session's vaults are fixed when it is created").optional(),
    budget: budgetLimit.nullable().optional(),
  })
  .strict();

/** The fields an `agent_with_overrides` reference replaces: only those it gives. */
function overridesOf(agent: {
  model?: AgentOverrides['model'];
  system?: string | null | undefined;
  tools?: AgentOverrides['tools'];
  mcp_servers?: AgentOverrides['mcp_servers'];
  skills?: AgentOverrides['skills'];
}): AgentOverrides {
  const { model, system, tools, mcp_servers, skills } = agent;
  return {
    ...(model !== undefined && { model }),
    ...(system !== undefined && { system }),
    ...(tools !== undefined && { tools }),
    ...(mcp_servers !== undefined && { mcp_servers }),
    ...(skills !== undefined && { skills }),
  };
}

/** The session resource: create, retrieve, list and delete (which ends the session and removes its sandbox). */
export function registerSessionRoutes(app: FastifyInstance, sessions: SessionService): void {
  app.post('/v1/sessions', withContract({ summary: 'Create a session.', body: createSessionBody }), async (request) => {
    const body = parseOrThrow(createSessionBody, request.body ?? {}, '');
    const agent = body.agent;
    return sessions.create({
      agent:
        agent === undefined
          ? undefined
          : typeof agent === 'string'
            ? { id: agent }
            : {
                id: agent.id,
                version: agent.version,
                ...(agent.type === 'agent_with_overrides' && { overrides: overridesOf(agent) }),
              },
      environmentId: body.environment_id,
      title: body.title ?? null,
      metadata: body.metadata ?? {},
      initialEvents: body.initial_events ?? [],
      resources: body.resources ?? [],
      vaultIds: body.vault_ids ?? [],
      ...(body.budget === undefined ? {} : { budget: body.budget }),
    });
  });

  app.get<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId',
    withContract({ summary: 'Retrieve a session.' }),
    async (request) => sessions.get(request.params.sessionId),
  );

  app.get('/v1/sessions', withContract({ summary: 'List sessions.', query: listQuery }), async (request) => {
    const query = parseOrThrow(listQuery, request.query, '');
    if (query.agent_version !== undefined && query.agent_id === undefined) {
      throw invalidField('agent_version', 'filters by a version of the agent named by agent_id, so it needs agent_id');
    }
    return sessions.list({
      limit: query.limit,
      page: query.page,
      order: query.order,
      agentId: query.agent_id,
      agentVersion: query.agent_version,
      memoryStoreId: query.memory_store_id,
      deploymentId: query.deployment_id,
      statuses: [query.statuses ?? [], query['statuses[]'] ?? []].flat(),
      includeArchived: query.include_archived === 'true',
      createdAt: {
        gt: query['created_at[gt]'],
        gte: query['created_at[gte]'],
        lt: query['created_at[lt]'],
        lte: query['created_at[lte]'],
      },
    });
  });

  app.post<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId',
    withContract({ summary: 'Update a session.', body: updateSessionBody }),
    async (request) => {
      const body = parseOrThrow(updateSessionBody, request.body ?? {}, '');
      return sessions.update(
        request.params.sessionId,
        {
          ...(body.title === undefined ? {} : { title: body.title }),
          ...(body.metadata === undefined || body.metadata === null ? {} : { metadata: body.metadata }),
          ...(body.budget === undefined ? {} : { budget: body.budget }),
        },
        body.agent,
      );
    },
  );

  app.post<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/archive',
    withContract({ summary: 'Archive a session.' }),
    async (request) => sessions.archive(request.params.sessionId),
  );

  app.delete<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId',
    withContract({ summary: 'Delete a session (ends it and removes its sandbox).' }),
    async (request) => {
      await sessions.end(request.params.sessionId);
      return { id: request.params.sessionId, type: 'session_deleted' };
    },
  );
}
