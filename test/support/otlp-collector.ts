/**
 * TEST DOUBLE — THIS IS NOT AN OPENTELEMETRY COLLECTOR. A small node:http server that accepts what
 * an OTLP/HTTP trace exporter sends, `POST /v1/traces`, and records it for the test to read:
 *
 *   application/json       (OTLP/JSON, `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`): decoded into
 *                          `spans` (trace and span ids as the hex the JSON encoding uses).
 *   application/x-protobuf (`http/protobuf`, the default): NOT decoded (no protobuf schema is
 *                          bundled here); the raw bodies are kept in `protobufBodies`, and
 *                          `protobufHolds` finds a trace id's bytes or a span name in them.
 *
 * It answers 200 with an empty ExportTraceServiceResponse in the request's encoding. Not modelled:
 * partial success, retries on 429/503, gzip, gRPC. It proves that Lockstep's exporter speaks
 * OTLP/HTTP as the SDK does, and what spans it makes; nothing about a real collector.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttributeValue = string | number | boolean;

export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 2 server, 3 client. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

interface JsonAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: JsonAttribute[];
  status?: { code?: number };
}
interface JsonExport {
  resourceSpans?: { resource?: { attributes?: JsonAttribute[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  readonly protobufBodies: Buffer[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = request.headers['content-type'] ?? '';
        if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end();
        if (type.startsWith('application/json')) {
          this.spans.push(...decodeJson(JSON.parse(body.toString('utf8')) as JsonExport));
          return void response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        }
        if (type.startsWith('application/x-protobuf')) {
          this.protobufBodies.push(body);
          return void response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        }
        response.writeHead(415).end();
      });
    });
  }

  static async start(): Promise<OtlpCollector> {
    const collector = new OtlpCollector();
    await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  /** The value of OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Whether a protobuf export holds this trace id (hex) as its 16 bytes, or this text. */
  protobufHolds(traceIdHex: string, text?: string): boolean {
    const id = Buffer.from(traceIdHex, 'hex');
    return this.protobufBodies.some((body) => body.includes(id) && (text === undefined || body.includes(Buffer.from(text))));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function decodeJson(exported: JsonExport): CollectedSpan[] {
  return (exported.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: attributesOf(span.attributes),
        statusCode: span.status?.code ?? 0,
      })),
    );
  });
}

function attributesOf(attributes: JsonAttribute[] = []): Record<string, AttributeValue> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue ?? '')),
    ]),
  );
}
