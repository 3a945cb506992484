import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_ERROR_STATUS } from '../api-error';
import { MEMORY_ERROR_TYPES } from '../memory-stores/memory-errors';
import type { RouteContract } from './route-contract';

/** One route as Fastify registered it, with its contract when it declared one. */
export interface ServedRoute {
  method: string;
  url: string;
  contract: RouteContract | undefined;
}

/** A JSON Schema or OpenAPI object, as plain JSON. */
type JsonObject = Record<string, unknown>;

/**
 * Records every route registered on `app` from now on (in child scopes too), so the OpenAPI document lists exactly
 * the routes served. Call it before the routes are registered.
 */
export function collectRoutes(app: FastifyInstance): ServedRoute[] {
  const routes: ServedRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // HEAD routes are Fastify's automatic twins of GET ones; the console's static files are no part of the API.
      if (method === 'HEAD' || route.url.startsWith('/console')) continue;
      routes.push({ method, url: route.url, contract: route.config?.contract });
    }
  });
  return routes;
}

/**
 * The OpenAPI 3.1 description of `routes`, generated from the zod schemas each route validates with (their input
 * side: what a client sends). Every operation documents the Anthropic error shape for its 4xx answers, and the API
 * key it needs.
 */
export function openApiDocument(routes: readonly ServedRoute[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of [...routes].sort((a, b) => a.url.localeCompare(b.url))) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, path);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keel API',
      version,
      description:
        "Keel's HTTP API: wire-compatible with Anthropic's Managed Agents API (`client.beta.*` of `@anthropic-ai/sdk`).",
    },
    paths,
    components: {
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        Bearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
    security: [{ ApiKey: [] }, { Bearer: [] }],
  };
}

/** The Anthropic error shape every 4xx and 5xx answer has. */
const ERROR_SCHEMA: JsonObject = {
  type: 'object',
  required: ['type', 'error'],
  properties: {
    type: { const: 'error' },
    error: {
      type: 'object',
      required: ['type', 'message'],
      properties: {
        type: { enum: [...Object.keys(API_ERROR_STATUS), ...MEMORY_ERROR_TYPES] },
        message: { type: 'string' },
      },
    },
  },
};

function operation(route: ServedRoute, path: string): JsonObject {
  const contract = route.contract;
  const pathParameters = [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string', minLength: 1 },
  }));
  const successMedia = contract?.responseMediaType ?? 'application/json';
  const responses: JsonObject = {};
  for (const status of contract?.successStatuses ?? [200]) {
    responses[String(status)] =
      status === 204 ? { description: 'No content.' } : { description: 'Success.', content: { [successMedia]: {} } };
  }
  responses['4XX'] = {
    description: 'A rejected request, in the Anthropic error shape.',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next?: string) => (next ?? '').toUpperCase())}`,
    summary: contract?.summary ?? `${route.method} ${path}`,
    ...(contract?.public === true && { security: [] }),
    parameters: [...pathParameters, ...queryParameters(contract?.query)],
    ...requestBody(contract),
    responses,
  };
}

function queryParameters(query: z.ZodObject | undefined): JsonObject[] {
  if (query === undefined) return [];
  const schema = toJsonSchema(query);
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
  }));
}

function requestBody(contract: RouteContract | undefined): JsonObject {
  if (contract?.rawBody !== undefined) return { requestBody: { required: true, content: contract.rawBody } };
  if (contract?.body === undefined) return {};
  return {
    requestBody: {
      required: contract.bodyRequired ?? false,
      content: { 'application/json': { schema: toJsonSchema(contract.body) } },
    },
  };
}

/** A request schema's input side as JSON Schema 2020-12 (OpenAPI 3.1's dialect), with no `$schema` key. */
function toJsonSchema(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    // A field that must stay absent (a filter Keel refuses) takes no value at all.
    override: (context) => {
      if (context.zodSchema._zod.def.type === 'undefined') context.jsonSchema.not = {};
    },
  });
  return json;
}
