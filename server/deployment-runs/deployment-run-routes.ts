import type { FastifyInstance } from 'fastify';
import { withContract } from '../openapi/route-contract';
import { toPageRequest } from '../page-query';
import { parseOrThrow } from '../validation';
import { listDeploymentRunsQuery } from '../deployments/deployment-request-schemas';
import type { DeploymentService } from '../deployments/deployment-service';

/** Deployment runs at the SDK's paths (`client.beta.deploymentRuns`): retrieve and list (newest first). */
export function registerDeploymentRunRoutes(app: FastifyInstance, deployments: DeploymentService): void {
  app.get<{ Params: { deploymentRunId: string } }>(
    '/v1/deployment_runs/:deploymentRunId',
    withContract({ summary: 'Retrieve a deployment run.' }),
    async (request) => deployments.retrieveRun(request.params.deploymentRunId),
  );

  app.get(
    '/v1/deployment_runs',
    withContract({ summary: 'List deployment runs, newest first.', query: listDeploymentRunsQuery }),
    async (request) => {
      const query = parseOrThrow(listDeploymentRunsQuery, request.query, '');
      return deployments.listRuns({
        ...toPageRequest(query),
        deploymentId: query.deployment_id,
        hasError: query.has_error,
        triggerType: query.trigger_type,
        createdAt: {
          gt: query['created_at[gt]'],
          gte: query['created_at[gte]'],
          lt: query['created_at[lt]'],
          lte: query['created_at[lte]'],
        },
      });
    },
  );
}
