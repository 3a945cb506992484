import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createAgentBody, updateAgentBody } from './agent-request-schemas';
import type { AgentService } from './agent-service';
import { booleanQuery, pageQueryFields, toPageRequest } from '../page-query';
import { parseOrThrow } from '../validation';
import { withContract } from '../openapi/route-contract';

const retrieveQuery = z.object({ version: z.coerce.number().int().min(1, 'must be at least 1').optional() }).loose();

/** An RFC 3339 time, turned into the store's normal form so that times compare as text. */
const timeQuery = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' })
  .transform((value) => new Date(value).toISOString());

const listQuery = z
  .object({
    ...pageQueryFields,
    include_archived: booleanQuery.default(false),
    'created_at[gte]': timeQuery.optional(),
    'created_at[lte]': timeQuery.optional(),
  })
  .loose();

const versionsQuery = z.object(pageQueryFields).loose();

type AgentParams = { Params: { agentId: string } };

/** The agent resource, at the SDK's paths: create, retrieve (a version), update, list, archive, and versions list. */
export function registerAgentRoutes(app: FastifyInstance, agents: AgentService): void {
  app.post('/v1/agents', withContract({ summary: 'Create an agent.', body: createAgentBody }), async (request) =>
    agents.create(parseOrThrow(createAgentBody, request.body ?? {}, '')),
  );

  app.get<AgentParams>(
    '/v1/agents/:agentId',
    withContract({ summary: 'Retrieve an agent (a version of it).', query: retrieveQuery }),
    async (request) => {
      const query = parseOrThrow(retrieveQuery, request.query, '');
      return agents.retrieve(request.params.agentId, query.version);
    },
  );

  app.post<AgentParams>(
    '/v1/agents/:agentId',
    withContract({ summary: 'Update an agent (a new version).', body: updateAgentBody }),
    async (request) => agents.update(request.params.agentId, parseOrThrow(updateAgentBody, request.body ?? {}, '')),
  );

  app.get('/v1/agents', withContract({ summary: 'List agents.', query: listQuery }), async (request) => {
    const query = parseOrThrow(listQuery, request.query, '');
    return agents.list({
      ...toPageRequest(query),
      includeArchived: query.include_archived,
      createdAtOrAfter: query['created_at[gte]'] ?? null,
      createdAtOrBefore: query['created_at[lte]'] ?? null,
    });
  });

  app.post<AgentParams>(
    '/v1/agents/:agentId/archive',
    withContract({ summary: 'Archive an agent.' }),
    async (request) => agents.archive(request.params.agentId),
  );

  app.get<AgentParams>(
    '/v1/agents/:agentId/versions',
    withContract({ summary: "List an agent's versions.", query: versionsQuery }),
    async (request) => {
      const query = parseOrThrow(versionsQuery, request.query, '');
      return agents.listVersions(request.params.agentId, toPageRequest(query));
    },
  );
}
