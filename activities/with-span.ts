import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { KEEL_TRACER_NAME } from '../common/telemetry-attributes';

/**
 * Runs `work` in a client span named `name` (a call to another system: the model endpoint, the Docker engine), a child
 * of the current span (in an Activity, its `RunActivity` span), and ends the span with `work`: a throw marks it
 * failed. With tracing off no tracer provider is registered, so the span does nothing and costs next to nothing:
 * Activities call this whether or not the worker exports traces.
 */
export function withSpan<Result>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<Result>,
): Promise<Result> {
  return trace
    .getTracer(KEEL_TRACER_NAME)
    .startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        return await work(span);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        span.recordException(error instanceof Error ? error : message);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        throw error;
      } finally {
        span.end();
      }
    });
}
