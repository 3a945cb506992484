import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request an OTLP/HTTP exporter posted. */
export interface OtlpRequest {
  path: string;
  contentType: string;
  body: Buffer;
}

/** A span as an OTLP/JSON export carries it, flattened: attribute values unwrapped, its service's name added. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's span kind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  serviceName: unknown;
}

interface JsonAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface JsonExport {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: JsonAttribute[];
      }>;
    }>;
  }>;
}

/**
 * A tiny OTLP/HTTP collector on loopback: it accepts `POST /v1/traces` in either encoding, answers 200, and keeps what
 * it got; `spans()` decodes the JSON exports (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`).
 */
export class OtlpReceiver {
  private constructor(
    private readonly server: Server,
    /** The base endpoint, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it. */
    readonly url: string,
    /** Every request received, in arrival order. */
    readonly requests: OtlpRequest[],
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const requests: OtlpRequest[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const contentType = request.headers['content-type'] ?? '';
        requests.push({ path: request.url ?? '', contentType, body: Buffer.concat(chunks) });
        const json = contentType.includes('json');
        response.writeHead(request.method === 'POST' && request.url === '/v1/traces' ? 200 : 404, {
          'content-type': json ? 'application/json' : 'application/x-protobuf',
        });
        response.end(json ? '{}' : undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests);
  }

  /** Every span of the JSON exports received so far. */
  spans(): ReceivedSpan[] {
    return this.requests
      .filter((request) => request.path === '/v1/traces' && request.contentType.includes('json'))
      .flatMap((request) => {
        const exported = JSON.parse(request.body.toString('utf8')) as JsonExport;
        return (exported.resourceSpans ?? []).flatMap((resourceSpans) => {
          const serviceName = attributesOf(resourceSpans.resource?.attributes)['service.name'];
          return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
            (scopeSpans.spans ?? []).map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              serviceName,
            })),
          );
        });
      });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** OTLP/JSON attributes as plain values (`{ stringValue: 'x' }` → `'x'`; nested lists and maps left as they are). */
function attributesOf(attributes: JsonAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, Object.values(value)[0]]));
}
