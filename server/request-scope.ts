import { AsyncLocalStorage } from 'node:async_hooks';

/** What Keel learns about an HTTP request while its handler runs; read when the request is logged and its span ends. */
export interface RequestScope {
  requestId: string;
  /** The session the request acted on: the first Workflow its Temporal calls reached (`sessionScopeInterceptor`). */
  sessionId: string | undefined;
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
