import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validTraceparent, type TracedSpan, type Tracing } from '../tracing/index.js';

const spans = new WeakMap<FastifyRequest, TracedSpan>();

/**
 * With tracing on, a server span for every request of the plugin's routes, continuing the caller's
 * `traceparent`; ended with the status sent. Off, nothing is added.
 */
export function traceRequests(app: FastifyInstance, tracing: Tracing | undefined): void {
  if (!tracing) return;
  app.addHook('onRequest', (request, _reply, done) => {
    spans.set(request, tracing.request(request.method, request.routeOptions.url ?? request.url, validTraceparent(request.headers.traceparent)));
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    spans.get(request)?.end(reply.statusCode);
    done();
  });
}

/**
 * The trace context to store with what this request accepts: its own span's when tracing is on,
 * else the caller's valid `traceparent` as it came (so an emitter that traces, or the receiver,
 * still continues the producer's trace), else none.
 */
export function traceContextOf(request: FastifyRequest): string | undefined {
  return spans.get(request)?.traceparent ?? validTraceparent(request.headers.traceparent);
}
