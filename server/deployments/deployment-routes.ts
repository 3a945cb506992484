import type { FastifyInstance } from 'fastify';
import { withContract } from '../openapi/route-contract';
import { toPageRequest } from '../page-query';
import { parseOrThrow } from '../validation';
import { createDeploymentBody, listDeploymentsQuery, updateDeploymentBody } from './deployment-request-schemas';
import type { DeploymentService } from './deployment-service';

type DeploymentParams = { Params: { deploymentId: string } };

/** Deployments at the SDK's paths (`client.beta.deployments`): create, retrieve, update, list, archive, pause, unpause and run. */
export function registerDeploymentRoutes(app: FastifyInstance, deployments: DeploymentService): void {
  app.post(
    '/v1/deployments',
    withContract({ summary: 'Create a deployment.', body: createDeploymentBody }),
    async (request) => deployments.create(parseOrThrow(createDeploymentBody, request.body ?? {}, '')),
  );

  app.get<DeploymentParams>(
    '/v1/deployments/:deploymentId',
    withContract({ summary: 'Retrieve a deployment.' }),
    async (request) => deployments.retrieve(request.params.deploymentId),
  );

  app.post<DeploymentParams>(
    '/v1/deployments/:deploymentId',
    withContract({ summary: 'Update a deployment.', body: updateDeploymentBody }),
    async (request) =>
      deployments.update(request.params.deploymentId, parseOrThrow(updateDeploymentBody, request.body ?? {}, '')),
  );

  app.get(
    '/v1/deployments',
    withContract({ summary: 'List deployments.', query: listDeploymentsQuery }),
    async (request) => {
      const query = parseOrThrow(listDeploymentsQuery, request.query, '');
      return deployments.list({
        ...toPageRequest(query),
        agentId: query.agent_id,
        status: query.status,
        includeArchived: query.include_archived ?? false,
        createdAt: { gte: query['created_at[gte]'], lte: query['created_at[lte]'] },
      });
    },
  );

  app.post<DeploymentParams>(
    '/v1/deployments/:deploymentId/archive',
    withContract({ summary: 'Archive a deployment (its schedule stops for good).' }),
    async (request) => deployments.archive(request.params.deploymentId),
  );

  app.post<DeploymentParams>(
    '/v1/deployments/:deploymentId/pause',
    withContract({ summary: 'Pause a deployment (its schedule stops firing; manual runs still work).' }),
    async (request) => deployments.pause(request.params.deploymentId),
  );

  app.post<DeploymentParams>(
    '/v1/deployments/:deploymentId/unpause',
    withContract({ summary: 'Unpause a deployment.' }),
    async (request) => deployments.unpause(request.params.deploymentId),
  );

  app.post<DeploymentParams>(
    '/v1/deployments/:deploymentId/run',
    withContract({ summary: 'Run a deployment now: create its session and record the run.' }),
    async (request) => deployments.run(request.params.deploymentId),
  );
}
