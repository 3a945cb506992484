/**
 * Not a Workflow: the Workflow interceptors that Temporal's bundler adds to every Workflow (see
 * `WORKFLOW_INTERCEPTOR_MODULES`). They are Temporal's own OpenTelemetry ones, written for the Workflow sandbox: they
 * continue the trace a client put in the Workflow's headers (`RunWorkflow`, `HandleSignal`, `HandleUpdate` spans),
 * pass it on to every scheduled Activity, and hand finished spans to the worker's `exporter` sink. They are always in
 * the bundle, so every worker runs the same Workflow code whether or not it exports traces; a worker without tracing
 * drops the spans in its sink (see `workerTracing`).
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';

/** The Workflow interceptors: OpenTelemetry spans and trace propagation for each Workflow run. */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
