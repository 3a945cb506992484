import type { z } from 'zod';

/**
 * What one route takes, declared once next to the route: the very zod schemas its handler validates with, which the
 * OpenAPI document (`/openapi.json`) is generated from, so the document cannot drift from the validation.
 */
export interface RouteContract {
  /** One line on what the operation does. */
  summary: string;
  /** The query string's fields (a zod object: each field is one query parameter). */
  query?: z.ZodObject;
  /** The JSON request body. */
  body?: z.ZodType;
  /** Whether a request must have a body; by default an absent body reads as `{}`. */
  bodyRequired?: boolean;
  /** A request body that is not JSON, given as its own OpenAPI media types (the file upload's multipart form). */
  rawBody?: Record<string, unknown>;
  /** The media type of a successful answer when it is not JSON (an event stream, a file's content). */
  responseMediaType?: string;
  /** The status of a successful answer, when not only 200 (an empty poll answers 204). */
  successStatuses?: number[];
  /** Whether the route needs no API key (`/health`, `/metrics`, `/openapi.json`). */
  public?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's contract, read by the OpenAPI document (see `RouteContract`). */
    contract?: RouteContract;
  }
}

/** The route options that attach `contract` to a route: `app.get(path, withContract({ … }), handler)`. */
export function withContract(contract: RouteContract): { config: { contract: RouteContract } } {
  return { config: { contract } };
}
