import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config/index.js';
import type { TracingIdentity } from './index.js';
import type { AttemptFields, TracedSpan, Tracing } from './types.js';

/**
 * The OpenTelemetry side, loaded only when tracing is on. The SDK reads the standard variables
 * itself: the endpoint and headers (OTEL_EXPORTER_OTLP_*), OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES (envDetector), OTEL_TRACES_SAMPLER/_ARG (the provider's default
 * sampler, parent-based always-on when unset), OTEL_BSP_* (the batch processor).
 *
 * The provider is not registered globally: every span gets its parent explicitly (from a
 * `traceparent`), so no context manager is installed. On Node 20 the AsyncLocalStorage one
 * would hook every promise of the process, tracing on or not where it matters.
 */
export async function startOtelTracing(config: TracingConfig, identity: TracingIdentity): Promise<Tracing> {
  const exporter: SpanExporter =
    config.protocol === 'http/json'
      ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
      : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'lockstep', [ATTR_SERVICE_VERSION]: identity.version, 'service.instance.id': identity.instanceId }))
    .merge(detectResources({ detectors: [envDetector] })); // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  return new OtelTracing(provider.getTracer('lockstep', identity.version), () => provider.shutdown());
}

const propagator = new W3CTraceContextPropagator();

class OtelTracing implements Tracing {
  constructor(
    private readonly tracer: Tracer,
    readonly shutdown: () => Promise<void>,
  ) {}

  request(method: string, route: string, incoming: string | undefined): TracedSpan {
    const span = this.tracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: route } },
      parentOf(incoming),
    );
    return traced(span, (statusCode) => statusCode === null || statusCode >= 500);
  }

  attempt(parent: string, fields: AttemptFields): TracedSpan {
    const url = new URL(fields.url);
    const span = this.tracer.startSpan(
      'POST webhook',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: 'POST',
          [ATTR_SERVER_ADDRESS]: url.hostname,
          [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
          'lockstep.receiver.id': fields.receiverId,
          'lockstep.message.id': fields.messageId,
          'lockstep.attempt': fields.attempt,
          'lockstep.fence': fields.fence,
          'lockstep.lock_wait_ms': fields.lockWaitMs,
        },
      },
      parentOf(parent),
    );
    // a receiver's answer other than 2xx is a failed attempt
    return traced(span, (statusCode) => statusCode === null || statusCode < 200 || statusCode >= 300);
  }
}

function parentOf(traceparent: string | undefined) {
  return traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
}

function traced(span: Span, failed: (statusCode: number | null) => boolean): TracedSpan {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return {
    traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`,
    end(statusCode, errorKind) {
      if (statusCode !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
      if (failed(statusCode)) {
        // error.type: what went wrong, or the status code that says so (semantic conventions)
        span.setAttribute(ATTR_ERROR_TYPE, errorKind ?? String(statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR, ...(errorKind ? { message: errorKind } : {}) });
      }
      span.end();
    },
  };
}
