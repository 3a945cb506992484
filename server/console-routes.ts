import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROJECT_ROOT } from '../common/config';
import { ApiError } from './api-error';

/** Where the set-up step `scripts/setup/console.sh` writes the console's bundle. */
export const CONSOLE_BUILD_DIR = path.join(PROJECT_ROOT, '.keel', 'console');

/** The files of the built console, by the path they are served at, with their content types. */
const CONSOLE_FILES: Record<string, { file: string; contentType: string }> = {
  '/console': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/console/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  '/console/console.js.map': { file: 'console.js.map', contentType: 'application/json; charset=utf-8' },
  '/console/console.css': { file: 'console.css', contentType: 'text/css; charset=utf-8' },
};

/** What the console's page learns from the server, served as `/console/config.json`. */
export interface ConsoleOptions {
  /** Where the console's bundle is (the set-up step's output by default). */
  buildDir?: string;
  /**
   * The Temporal Web UI that shows this stack's session Workflows (`keel up`'s dev server UI), or `null` when Keel does
   * not know one (an external cluster): the session page then shows no link.
   */
  temporalUiUrl?: string | null;
  /** The Temporal namespace the session Workflows run in, for the link to a Workflow in the Temporal UI. */
  temporalNamespace?: string;
}

/**
 * The body of `GET /console/config.json`: what the page needs to know of the deployment and cannot ask the public API.
 * It holds no secret (the file is served without a key, like the page itself).
 */
export interface ConsoleConfig {
  temporal_ui_url: string | null;
  temporal_namespace: string;
}

/**
 * Whether a request is for the console's static files, which need no API key: the page itself asks for the key and
 * sends it with each API request. Only GET and HEAD; anything else under /console goes through authentication.
 */
export function isConsoleRequest(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const pathname = url.split('?')[0] ?? '';
  return pathname === '/console' || pathname.startsWith('/console/');
}

/**
 * `GET /console/…`: the web console, served from its bundle on the same origin as the API (so the page's API requests
 * need no CORS). An unknown path answers 404 and a missing bundle 404 naming the set-up step, both in the Anthropic
 * error shape. `/console/config.json` is the page's view of the deployment (`ConsoleConfig`).
 */
export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleOptions = {}): void {
  const buildDir = options.buildDir ?? CONSOLE_BUILD_DIR;
  const config: ConsoleConfig = {
    temporal_ui_url: options.temporalUiUrl?.replace(/\/+$/, '') ?? null,
    temporal_namespace: options.temporalNamespace ?? 'default',
  };
  const serve = async (pathname: string): Promise<{ body: Buffer; contentType: string }> => {
    const entry = CONSOLE_FILES[pathname];
    if (entry === undefined) throw new ApiError('not_found_error', `No console page ${pathname}.`);
    try {
      return { body: await readFile(path.join(buildDir, entry.file)), contentType: entry.contentType };
    } catch {
      throw new ApiError(
        'not_found_error',
        `The console is not built (no ${entry.file} in ${buildDir}): run \`npm run setup\` (scripts/setup/console.sh).`,
      );
    }
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { body, contentType } = await serve(request.url.split('?')[0] ?? '');
    return reply
      .header('content-type', contentType)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; frame-ancestors 'none'; base-uri 'none'")
      .send(body);
  };
  app.get('/console/config.json', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(config),
  );
  app.get('/console', handler);
  app.get('/console/*', handler);
}
