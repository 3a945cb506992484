import type { WorkflowClientInterceptor } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { sessionScopeInterceptor } from './session-scope-interceptor';

/**
 * The interceptors of the server's Temporal client. With `tracing`, Temporal's OpenTelemetry one first: each start,
 * signal, update and query gets a span, a child of the HTTP request's, whose context travels to the Workflow in the
 * call's headers. Then `sessionScopeInterceptor`, which sees that span as the current one.
 */
export function temporalClientInterceptors(options: { tracing: boolean }): WorkflowClientInterceptor[] {
  return [...(options.tracing ? [new OpenTelemetryWorkflowClientInterceptor()] : []), sessionScopeInterceptor];
}
