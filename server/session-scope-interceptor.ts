import { trace } from '@opentelemetry/api';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { SESSION_ID_ATTRIBUTE } from '../common/telemetry-attributes';
import { currentRequestScope } from './request-scope';

/**
 * A Temporal client interceptor that notes which session (Workflow ID) a call reaches: on the current span (the
 * client's `StartWorkflow`, `SignalWorkflow`, ... span when tracing is on) and, once, on the current HTTP request's
 * scope, so the request's log line and span carry the session id even when the server made it up (session creation).
 */
export const sessionScopeInterceptor: WorkflowClientInterceptor = {
  startWithDetails: (input, next) => {
    noteSession(input.options.workflowId);
    return next(input);
  },
  signal: (input, next) => {
    noteSession(input.workflowExecution.workflowId);
    return next(input);
  },
  startUpdate: (input, next) => {
    noteSession(input.workflowExecution.workflowId);
    return next(input);
  },
  query: (input, next) => {
    noteSession(input.workflowExecution.workflowId);
    return next(input);
  },
  describe: (input, next) => {
    noteSession(input.workflowExecution.workflowId);
    return next(input);
  },
};

function noteSession(sessionId: string): void {
  trace.getActiveSpan()?.setAttribute(SESSION_ID_ATTRIBUTE, sessionId);
  const scope = currentRequestScope();
  if (scope !== undefined) scope.sessionId ??= sessionId;
}
