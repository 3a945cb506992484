import { ApiError } from '../../api-error';

/** What a request made with an environment key acts on: its environment's work queue, or one of its sessions. */
export type EnvironmentKeyTarget = { kind: 'work'; environmentId: string } | { kind: 'session'; sessionId: string };

const WORK_PATH = /^\/v1\/environments\/([^/?]+)\/work(?:\/[^?]*)?$/;
const SESSION_PATHS: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/v1\/sessions\/([^/?]+)$/ },
  { method: 'GET', path: /^\/v1\/sessions\/([^/?]+)\/events$/ },
  { method: 'POST', path: /^\/v1\/sessions\/([^/?]+)\/events$/ },
  { method: 'GET', path: /^\/v1\/sessions\/([^/?]+)\/events\/stream$/ },
];

/**
 * The one rule of environment keys, as the hosted API describes them ("authorizes polling your environment's work
 * queue and submitting results back to sessions"): the environment's work endpoints, and reading a session, its events
 * and its stream and sending it events. Anything else is `null`: the key may not call it.
 */
export function environmentKeyTarget(method: string, url: string): EnvironmentKeyTarget | null {
  const path = url.split('?')[0] ?? '';
  const work = WORK_PATH.exec(path);
  if (work?.[1] !== undefined) return { kind: 'work', environmentId: decodeURIComponent(work[1]) };
  for (const candidate of SESSION_PATHS) {
    const match = candidate.path.exec(path);
    if (match?.[1] !== undefined && candidate.method === method) {
      return { kind: 'session', sessionId: decodeURIComponent(match[1]) };
    }
  }
  return null;
}

/** The events an environment key may send to its sessions: the results of the tool calls its workers ran. */
export const ENVIRONMENT_KEY_EVENTS: ReadonlySet<string> = new Set(['user.tool_result', 'user.custom_tool_result']);

/**
 * Refuses (403) a request an environment key may not make: another route, another environment's queue, a session
 * of another environment (`sessionEnvironment` looks it up), or an event other than a tool result.
 */
export async function requireEnvironmentKeyScope(
  environmentId: string,
  request: { method: string; url: string; body?: unknown },
  sessionEnvironment: (sessionId: string) => Promise<string | null>,
): Promise<void> {
  const target = environmentKeyTarget(request.method, request.url);
  if (target === null) {
    throw new ApiError(
      'permission_error',
      `An environment key may only use its environment's work queue and the sessions of that environment, not ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    );
  }
  if (target.kind === 'work') return; // the work routes check the environment (and the kind of key) themselves
  const owner = await sessionEnvironment(target.sessionId);
  if (owner !== environmentId) {
    throw new ApiError('permission_error', `Session ${target.sessionId} does not run in environment ${environmentId}.`);
  }
  if (request.method === 'POST') {
    const events = (request.body as { events?: unknown } | undefined)?.events;
    const types = Array.isArray(events) ? events.map((event) => (event as { type?: unknown } | null)?.type) : [];
    const other = types.find((type) => typeof type !== 'string' || !ENVIRONMENT_KEY_EVENTS.has(type));
    if (other !== undefined) {
      throw new ApiError(
        'permission_error',
        `An environment key sends only tool results (user.tool_result, user.custom_tool_result), not ${JSON.stringify(other)}.`,
      );
    }
  }
}
