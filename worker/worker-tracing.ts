import { trace } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { SESSION_ID_ATTRIBUTE } from '../common/telemetry-attributes';

/** Where a worker's spans go: its process's span processor and resource (see `startTracing`). */
export interface WorkerTracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
}

/** The sinks and Activity interceptors of a worker's tracing, which `createWorker` adds to its own. */
export interface WorkerTracingOptions {
  sinks: InjectedSinks<OpenTelemetrySinks>;
  activityInterceptors: ActivityInterceptorsFactory[];
}

/**
 * The worker's side of tracing. The Workflow interceptors are in every bundle (`workflows/tracing-interceptors.ts`)
 * and hand their finished spans to the `exporter` sink: with `tracing` the sink passes them to the span processor,
 * without it drops them (an unregistered sink would log an error for each). With `tracing`, each Activity also runs in
 * a `RunActivity` span that continues the Workflow's trace from the Activity's headers, with the session id on it.
 */
export function workerTracing(tracing: WorkerTracing | undefined): WorkerTracingOptions {
  if (tracing === undefined) {
    return { sinks: { exporter: { export: { fn: () => undefined } } }, activityInterceptors: [] };
  }
  const exporter = makeWorkflowExporter(tracing.spanProcessor, tracing.resource);
  return {
    sinks: { exporter: { export: { fn: (info, spans) => exporter.export.fn(workflowSpanAttributes(info), spans) } } },
    activityInterceptors: [
      (activity) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(activity),
        outbound: new OpenTelemetryActivityOutboundInterceptor(activity),
      }),
      // After the OpenTelemetry interceptor, so the current span is the Activity's own.
      (activity) => ({
        inbound: {
          execute: (input, next) => {
            const sessionId = activity.info.workflowExecution?.workflowId;
            if (sessionId !== undefined) trace.getActiveSpan()?.setAttribute(SESSION_ID_ATTRIBUTE, sessionId);
            return next(input);
          },
        },
      }),
    ],
  };
}

/**
 * What the exporter sink writes into every Workflow span's attributes. Temporal's sink copies the whole `WorkflowInfo`
 * it is given, memo and search attributes included (the session's metadata and agent): it is given these ids instead.
 */
function workflowSpanAttributes(info: WorkflowInfo): WorkflowInfo {
  const attributes = {
    [SESSION_ID_ATTRIBUTE]: info.workflowId,
    temporalWorkflowId: info.workflowId,
    run_id: info.runId,
    temporalWorkflowType: info.workflowType,
  };
  return attributes as unknown as WorkflowInfo;
}
