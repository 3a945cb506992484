import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../common/config';
import type { WorkerTracing } from '../worker/worker-tracing';

/** This process's tracing, once started: what a worker exports its Workflows' spans with, and how it stops. */
export interface Tracing extends WorkerTracing {
  /** Exports the spans still buffered, then unregisters the tracer provider, the propagator and the context manager. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK of this process when `config` asks for it (see `TracingConfig`), else nothing and
 * `undefined`: a tracer provider that batches spans to the OTLP/HTTP endpoint, registered globally with the W3C trace
 * context propagator and an AsyncLocalStorage context manager. The SDK reads its other variables itself (headers,
 * timeout, batching, sampler, resource attributes). `serviceName` names the process unless `OTEL_SERVICE_NAME` does.
 */
export function startTracing(config: TracingConfig | undefined, serviceName: string): Tracing | undefined {
  if (config === undefined) return undefined;
  const resource = Resource.default()
    .merge(new Resource({ [ATTR_SERVICE_NAME]: serviceName }))
    .merge(envDetectorSync.detect())
    .merge(config.serviceName === undefined ? null : new Resource({ [ATTR_SERVICE_NAME]: config.serviceName }));
  const exporter =
    config.protocol === 'http/json'
      ? new OtlpJsonTraceExporter({ url: config.endpoint })
      : new OtlpProtobufTraceExporter({ url: config.endpoint });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    spanProcessor,
    resource,
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
