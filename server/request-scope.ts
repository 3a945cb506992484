import { AsyncLocalStorage } from 'node:async_hooks';

/** What Keel learns about an HTTP request while its handler runs; read when the request is logged and its span ends. */
export interface RequestScope {
  requestId: string;
  /** The session the request acted on: the first Workflow its Temporal calls reached (`sessionScopeInterceptor`). */
  sessionId: string | undefined;
  /** The workspace the request's API key acts in, set once the key is authenticated (`undefined` before). */
  workspaceId?: string | undefined;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (a request's handler and all it awaits) in `scope`, so the code it calls can fill the scope in. */
export function runInRequestScope<Result>(scope: RequestScope, work: () => Result): Result {
  return scopes.run(scope, work);
}

/** The scope of the HTTP request this code runs for, or `undefined` outside one (start-up, background work). */
export function currentRequestScope(): RequestScope | undefined {
  return scopes.getStore();
}

/**
 * The workspace of the HTTP request this code runs for. It fails closed: code that reads workspace-owned records
 * outside an authenticated request (where no workspace is known) gets an error, never every workspace's records.
 */
export function currentWorkspaceId(): string {
  const workspaceId = scopes.getStore()?.workspaceId;
  if (workspaceId === undefined) throw new Error('No workspace: workspace-owned records are read outside a request.');
  return workspaceId;
}
