import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTracing } from '../cli/start-tracing';
import { parseConfig } from '../common/config';
import { OtlpReceiver } from './support/otlp-receiver';
import type { ReceivedSpan } from './support/otlp-receiver';
import { sendAndWait, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

/** Every standard variable that could turn tracing on, emptied (empty counts as unset), whatever this shell exports. */
const NO_OTEL = {
  OTEL_SDK_DISABLED: '',
  OTEL_TRACES_EXPORTER: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
};
const SERVER_SPAN = 2;

let harness: TestStack | undefined;
let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  await receiver?.close();
  receiver = undefined;
});

/** Runs a turn with a `bash` tool call on a fresh session, ends the session and waits for its Workflow to complete. */
async function runToolSession(stack: TestStack): Promise<string> {
  const { id: sessionId } = await stack.client.createSession({ title: 'traced' });
  stack.model.enqueue(
    { kind: 'tool_use', name: 'bash', input: { command: 'echo traced' }, text: 'running it' },
    { kind: 'text', text: 'done' },
  );
  const { events } = await sendAndWait(stack.client, sessionId, 'run a command');
  expect(events.map((event) => event.type)).toContain('agent.tool_result');
  await stack.client.endSession(sessionId);
  await stack.stack.temporal.workflow.getHandle(sessionId).result();
  return sessionId;
}

/** The span `span` descends from, found by its parent id, or `undefined` at the root. */
function parentOf(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan | undefined {
  return spans.find((candidate) => candidate.spanId === span.parentSpanId && candidate.traceId === span.traceId);
}

/** The names of `span` and of its ancestors, from `span` up to the root. */
function lineage(span: ReceivedSpan, spans: ReceivedSpan[]): string[] {
  const names: string[] = [];
  for (let current: ReceivedSpan | undefined = span; current !== undefined; current = parentOf(current, spans)) {
    names.push(current.name);
  }
  return names;
}

function only(spans: ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(predicate);
  expect(
    found.map((span) => span.name),
    what,
  ).toHaveLength(1);
  return found[0]!;
}

describe('tracing configuration', () => {
  it('parseConfig turns tracing on only when an OTEL variable asks, and OTEL_SDK_DISABLED wins', () => {
    expect(parseConfig({}).tracing).toBeUndefined();
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: undefined,
    });
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing).toEqual({
      endpoint: 'http://localhost:4318/v1/traces',
      protocol: 'http/json',
      serviceName: undefined,
    });
    expect(
      parseConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/traces', OTEL_SERVICE_NAME: 'keel-a' })
        .tracing,
    ).toEqual({ endpoint: 'http://collector:4318/traces', protocol: 'http/protobuf', serviceName: 'keel-a' });
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).tracing).toBe(
      undefined,
    );
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing).toBe(
      undefined,
    );
    expect(() => parseConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => parseConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
  });

  it('startTracing with the default protocol posts protobuf to the OTLP endpoint, and unregisters itself on shutdown', async () => {
    receiver = await OtlpReceiver.start();
    const config = parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }).tracing;
    const tracing = startTracing(config, 'keel-protobuf-test');
    expect(tracing).toBeDefined();
    trace.getTracer('test').startSpan('protobuf-probe-span').end();
    await tracing?.shutdown();
    expect(receiver.requests.map((request) => [request.path, request.contentType])).toEqual([
      ['/v1/traces', 'application/x-protobuf'],
    ]);
    // Protobuf keeps strings as their UTF-8 bytes: the span's and the service's names are in the body as they are.
    expect(receiver.requests[0]?.body.includes('protobuf-probe-span')).toBe(true);
    expect(receiver.requests[0]?.body.includes('keel-protobuf-test')).toBe(true);
    expect(trace.getTracer('test').startSpan('after').isRecording()).toBe(false);
  });
});

describe('tracing of a session', () => {
  it('without OTEL variables, a tool-using session starts no tracer and propagates no trace context', async () => {
    harness = await startTestStack({ environment: NO_OTEL });
    await runToolSession(harness);
    expect(trace.getTracer('test').startSpan('probe').isRecording()).toBe(false);
    expect(harness.model.requests.length).toBeGreaterThan(0);
    for (const request of harness.model.requests) expect(request.headers['traceparent']).toBeUndefined();
  });

  it('with an OTLP endpoint, one trace links the HTTP request, the Temporal client, the Workflow, the Activities and the model and Docker calls', async () => {
    receiver = await OtlpReceiver.start();
    harness = await startTestStack({
      environment: {
        ...NO_OTEL,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'keel-tracing-test',
      },
    });
    const sessionId = await runToolSession(harness);
    const modelRequests = harness.model.requests;
    // Stopping the stack stops the tracing SDK last, which exports every span still buffered.
    await harness.stop();
    harness = undefined;
    const spans = receiver.spans();
    const ofSession = spans.filter((span) => span.attributes['keel.session.id'] === sessionId);

    // The request that created the session: its server span, and Temporal's client span under it.
    const create = only(
      spans,
      (span) => span.name === 'POST /v1/sessions' && span.kind === SERVER_SPAN,
      'the create request span',
    );
    expect(create.attributes['keel.session.id']).toBe(sessionId);
    expect(create.attributes['keel.request.id']).toMatch(/^req_[0-9a-f]{24}$/);
    expect(create.attributes['http.response.status_code']).toBe(200);
    expect(create.serviceName).toBe('keel-tracing-test');
    const start = only(ofSession, (span) => span.name === 'StartWorkflow:sessionWorkflow', 'the StartWorkflow span');
    expect(start.parentSpanId).toBe(create.spanId);

    // The model call and the command in Docker, each under its Activity, under the Workflow run, in the create trace.
    const models = ofSession.filter((span) => span.name === 'model.call');
    expect(models, 'a model call span for the tool call and one for the answer').toHaveLength(2);
    for (const model of models) {
      expect(lineage(model, spans)).toEqual([
        'model.call',
        'RunActivity:callModel',
        'StartActivity:callModel',
        'RunWorkflow:sessionWorkflow',
        'StartWorkflow:sessionWorkflow',
        'POST /v1/sessions',
      ]);
    }
    const docker = only(ofSession, (span) => span.name === 'sandbox.execute', 'the Docker exec span');
    expect(docker.attributes['keel.tool.name']).toBe('bash');
    expect(lineage(docker, spans)).toEqual([
      'sandbox.execute',
      'RunActivity:execute',
      'StartActivity:execute',
      'RunWorkflow:sessionWorkflow',
      'StartWorkflow:sessionWorkflow',
      'POST /v1/sessions',
    ]);
    expect(ofSession.some((span) => span.name === 'sandbox.provision' && span.traceId === create.traceId)).toBe(true);
    for (const name of ['RunWorkflow:sessionWorkflow', 'RunActivity:callModel', 'RunActivity:execute']) {
      expect(
        ofSession.map((span) => span.name),
        `${name} carries the session id`,
      ).toContain(name);
    }
    // The model SDK's own span sits under Keel's, and the model endpoint got the trace context.
    const sdkSpans = spans.filter((span) => span.name.startsWith('anthropic.'));
    expect(models.every((model) => sdkSpans.some((span) => span.parentSpanId === model.spanId))).toBe(true);
    expect(modelRequests[0]?.headers['traceparent']).toContain(create.traceId);

    // The message request is its own trace, which reaches the Workflow through the signal.
    const send = only(
      ofSession,
      (span) => span.name === 'POST /v1/sessions/:sessionId/events' && span.kind === SERVER_SPAN,
      'the send request span',
    );
    const signal = only(
      spans,
      (span) => span.name.startsWith('SignalWorkflow:') && span.parentSpanId === send.spanId,
      'the signal span',
    );
    expect(signal.attributes['keel.session.id']).toBe(sessionId);
  });
});
