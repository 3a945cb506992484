import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { NO_HEARTBEAT } from '../../../common/work-queue';
import { principalOf } from '../../api-keys';
import { pageQueryFields, toPageRequest } from '../../page-query';
import { parseOrThrow } from '../../validation';
import type { WorkService } from './work-service';
import { withContract } from '../../openapi/route-contract';

type WorkParams = { Params: { environmentId: string; workId: string } };
type EnvironmentParams = { Params: { environmentId: string } };

const pollQuery = z
  .object({
    block_ms: z.coerce.number().int().min(1).max(999).optional(),
    reclaim_older_than_ms: z.coerce.number().int().min(0).max(86_400_000).optional(),
  })
  .loose();
const heartbeatQuery = z
  .object({
    expected_last_heartbeat: z.string().min(1).max(64).default(NO_HEARTBEAT),
    desired_ttl_seconds: z.coerce.number().int().min(1).max(86_400).optional(),
  })
  .loose();
const stopBody = z.object({ force: z.boolean().nullable().optional() }).strict();
const updateBody = z.object({ metadata: z.record(z.string(), z.string().max(512).nullable()) }).strict();
const listQuery = z.object(pageQueryFields).loose();

/**
 * A self-hosted environment's work queue, at the SDK's paths (`client.beta.environments.work.*`); an empty poll
 * answers 204, which the SDK's worker reads as "no work".
 */
export function registerWorkRoutes(app: FastifyInstance, work: WorkService): void {
  const base = '/v1/environments/:environmentId/work';

  app.get<EnvironmentParams>(
    `${base}/poll`,
    withContract({ summary: "Poll an environment's work queue.", query: pollQuery, successStatuses: [200, 204] }),
    async (request, reply: FastifyReply) => {
      const query = parseOrThrow(pollQuery, request.query, '');
      const workerId = request.headers['anthropic-worker-id'];
      const item = await work.poll(principalOf(request), request.params.environmentId, {
        blockMs: query.block_ms ?? 0,
        reclaimOlderThanMs: query.reclaim_older_than_ms,
        workerId: typeof workerId === 'string' && workerId !== '' ? workerId.slice(0, 200) : null,
      });
      if (item === null) return reply.status(204).send();
      return item;
    },
  );

  app.get<EnvironmentParams>(
    `${base}/stats`,
    withContract({ summary: "A work queue's statistics." }),
    async (request) => work.stats(principalOf(request), request.params.environmentId),
  );

  app.get<EnvironmentParams>(base, withContract({ summary: 'List work items.', query: listQuery }), async (request) =>
    work.list(
      principalOf(request),
      request.params.environmentId,
      toPageRequest(parseOrThrow(listQuery, request.query, '')),
    ),
  );

  app.get<WorkParams>(`${base}/:workId`, withContract({ summary: 'Retrieve a work item.' }), async (request) =>
    work.retrieve(principalOf(request), request.params.environmentId, request.params.workId),
  );

  app.post<WorkParams>(
    `${base}/:workId`,
    withContract({ summary: "Update a work item's metadata.", body: updateBody }),
    async (request) => {
      const body = parseOrThrow(updateBody, request.body ?? {}, '');
      return work.update(principalOf(request), request.params.environmentId, request.params.workId, body.metadata);
    },
  );

  app.post<WorkParams>(`${base}/:workId/ack`, withContract({ summary: 'Acknowledge a work item.' }), async (request) =>
    work.ack(principalOf(request), request.params.environmentId, request.params.workId),
  );

  app.post<WorkParams>(
    `${base}/:workId/heartbeat`,
    withContract({ summary: "Extend a work item's lease.", query: heartbeatQuery }),
    async (request) => {
      const query = parseOrThrow(heartbeatQuery, request.query, '');
      return work.heartbeat(
        principalOf(request),
        request.params.environmentId,
        request.params.workId,
        query.expected_last_heartbeat,
        query.desired_ttl_seconds,
      );
    },
  );

  app.post<WorkParams>(
    `${base}/:workId/stop`,
    withContract({ summary: 'Stop a work item.', body: stopBody }),
    async (request) => {
      parseOrThrow(stopBody, request.body ?? {}, '');
      return work.stop(principalOf(request), request.params.environmentId, request.params.workId);
    },
  );
}
