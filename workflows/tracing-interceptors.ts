/**
 * Not a Workflow: the Workflow interceptors that Temporal's bundler adds to every Workflow (see
 * `WORKFLOW_INTERCEPTOR_MODULES`). They wrap Temporal's own OpenTelemetry ones, written for the Workflow sandbox: those
 * continue the trace a client put in the Workflow's headers (`RunWorkflow`, `HandleSignal`, `HandleUpdate` spans),
 * pass it on to every scheduled Activity, and hand finished spans to the worker's `exporter` sink.
 *
 * A run is traced when its start carried a trace (the server's Temporal client adds one when tracing is on, and a
 * traced run passes it on at continue-as-new). An untraced run skips them: otherwise each run would start a trace of
 * its own that nobody exports, and every Activity it schedules would carry that trace's header in the history (about
 * 110 bytes each, two a step) and cost the Workflow thread a span per Activity. Every worker bundles the same code, so
 * a run replays the same way on any worker whatever its tracing settings. Runs from before this rule (no
 * `UNTRACED_RUNS_SKIP_TRACING_PATCH` marker) keep the interceptors throughout, so they replay as they ran.
 */
import { patched } from '@temporalio/workflow';
import type {
  ActivityInput,
  ContinueAsNewInput,
  DisposeInput,
  GetLogAttributesInput,
  GetMetricTagsInput,
  LocalActivityInput,
  Next,
  QueryInput,
  SignalInput,
  SignalWorkflowInput,
  StartChildWorkflowExecutionInput,
  StartNexusOperationInput,
  StartNexusOperationOutput,
  UpdateInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';

/** Marks runs that skip the OpenTelemetry interceptors when their start carried no trace. */
export const UNTRACED_RUNS_SKIP_TRACING_PATCH = 'keel-untraced-runs-skip-tracing';

/** Whether one run goes through the OpenTelemetry interceptors: yes until its start has been seen (as before). */
class RunTracing {
  traced = true;

  /** Decides once, when the run starts: traced when its start carried a trace, or when it predates the rule. */
  decide(input: WorkflowExecuteInput): void {
    this.traced = TRACE_HEADER in input.headers || !patched(UNTRACED_RUNS_SKIP_TRACING_PATCH);
  }
}

class InboundWhenTraced implements WorkflowInboundCallsInterceptor {
  readonly #otel = new OpenTelemetryInboundInterceptor();
  constructor(private readonly run: RunTracing) {}

  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    this.run.decide(input);
    return this.run.traced ? this.#otel.execute(input, next) : next(input);
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    return this.run.traced ? this.#otel.handleSignal(input, next) : next(input);
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    return this.run.traced ? this.#otel.handleUpdate(input, next) : next(input);
  }

  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    if (this.run.traced) this.#otel.validateUpdate(input, next);
    else next(input);
  }

  handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>): Promise<unknown> {
    return this.run.traced ? this.#otel.handleQuery(input, next) : next(input);
  }
}

class OutboundWhenTraced implements WorkflowOutboundCallsInterceptor {
  readonly #otel = new OpenTelemetryOutboundInterceptor();
  constructor(private readonly run: RunTracing) {}

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return this.run.traced ? this.#otel.scheduleActivity(input, next) : next(input);
  }

  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return this.run.traced ? this.#otel.scheduleLocalActivity(input, next) : next(input);
  }

  startNexusOperation(
    input: StartNexusOperationInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startNexusOperation'>,
  ): Promise<StartNexusOperationOutput> {
    return this.run.traced ? this.#otel.startNexusOperation(input, next) : next(input);
  }

  startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) {
    return this.run.traced ? this.#otel.startChildWorkflowExecution(input, next) : next(input);
  }

  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    return this.run.traced ? this.#otel.continueAsNew(input, next) : next(input);
  }

  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) {
    return this.run.traced ? this.#otel.signalWorkflow(input, next) : next(input);
  }

  getLogAttributes(
    input: GetLogAttributesInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>,
  ): Record<string, unknown> {
    return this.run.traced ? this.#otel.getLogAttributes(input, next) : next(input);
  }

  getMetricTags(input: GetMetricTagsInput, next: Next<WorkflowOutboundCallsInterceptor, 'getMetricTags'>) {
    return this.run.traced ? this.#otel.getMetricTags(input, next) : next(input);
  }
}

class InternalsWhenTraced implements WorkflowInternalsInterceptor {
  readonly #otel = new OpenTelemetryInternalsInterceptor();
  constructor(private readonly run: RunTracing) {}

  dispose(input: DisposeInput, next: Next<WorkflowInternalsInterceptor, 'dispose'>): void {
    if (this.run.traced) void this.#otel.dispose(input, next);
    else next(input);
  }
}

/** The Workflow interceptors: OpenTelemetry spans and trace propagation for each traced run. */
export const interceptors: WorkflowInterceptorsFactory = () => {
  const run = new RunTracing();
  return {
    inbound: [new InboundWhenTraced(run)],
    outbound: [new OutboundWhenTraced(run)],
    internals: [new InternalsWhenTraced(run)],
  };
};
