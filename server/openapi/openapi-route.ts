import type { FastifyInstance } from 'fastify';
import { openApiDocument } from './openapi-document';
import type { ServedRoute } from './openapi-document';
import { withContract } from './route-contract';

/** The version the document gives for the API. */
const API_VERSION = '0.1.0';

/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of every route served, built once on the first request (when all
 * routes are registered). It needs no API key: it describes the API and holds nothing of any tenant.
 */
export function registerOpenApiRoute(app: FastifyInstance, routes: readonly ServedRoute[]): void {
  let document: Record<string, unknown> | undefined;
  app.get('/openapi.json', withContract({ summary: 'The OpenAPI description of this API.', public: true }), () => {
    document ??= openApiDocument(routes, API_VERSION);
    return document;
  });
}
