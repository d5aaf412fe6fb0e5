import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { docsPageOptions } from './docs-page.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AddressGuard } from '../delivery/address-guard.js';
import { EventTypes } from '../domain/event-types.js';
import { Messages } from '../domain/messages.js';
import { OperationalEvents } from '../domain/operational-events.js';
import { Receivers } from '../domain/receivers.js';
import type { ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics, QueueSnapshot } from '../metrics/index.js';
import type { Store } from '../store/index.js';
import { Tenants } from '../domain/tenants.js';
import { Tokens } from '../domain/tokens.js';
import { authorize } from './access.js';
import type { Tracing } from '../tracing/index.js';
import { ErrorBodySchema } from '../shapes/common.js';
import { authenticate, requireBearerToken, unauthorized } from './auth.js';
import { errorBodyOf, installErrorHandler } from './errors.js';
import { jsonBodies } from './json-body.js';
import { healthRoutes } from './health.js';
import { eventTypeDocs } from './event-type-docs.js';
import { eventTypeRoutes } from './event-types.js';
import { lockRoutes } from './locks.js';
import { messageListRoutes } from './message-list.js';
import { messageRoutes } from './messages.js';
import { receiverTestRoutes } from './receiver-test.js';
import { requestLog } from './request-log.js';
import { receiverRoutes } from './receivers.js';
import { withExample } from './schemas.js';
import { statsRoutes } from './stats.js';
import { tenantRoutes } from './tenants.js';
import { tokenRoutes } from './tokens.js';
import { uiRoutes } from './ui.js';

export interface ApiOptions {
  store: Store;
  metrics: Metrics;
  queues: QueueSnapshot;
  locks: ReceiverLocks;
  guard: AddressGuard;
  tokens: string[];
  /** Bearer tokens /metrics accepts; undefined = no token needed (LOCKSTEP_METRICS_PUBLIC). */
  metricsTokens: string[] | undefined;
  bodyLimitBytes: number;
  defaultTimeoutMs: number;
  /** LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES */
  requireKnownEventTypes: boolean;
  log: Logger;
  version: string;
  /** OpenTelemetry, when configured: a span per message request. */
  tracing: Tracing | undefined;
}

const METRICS_EXAMPLE = `# HELP lockstep_messages_accepted_total Messages accepted by intake
# TYPE lockstep_messages_accepted_total counter
lockstep_messages_accepted_total 18211
# HELP lockstep_queue_depth Deliveries waiting, by state (pending: not attempted yet; retrying: attempted, waiting for another attempt; dead)
# TYPE lockstep_queue_depth gauge
lockstep_queue_depth{state="pending"} 120
lockstep_queue_depth{state="retrying"} 3
lockstep_queue_depth{state="dead"} 1
`;

/** The intake and management API: each route group is a plugin with its own schemas. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger, // pino's own type, as fastify's bundled pino types see it
    childLoggerFactory: requestLog,
    bodyLimit: options.bodyLimitBytes,
    routerOptions: { maxParamLength: 200 },
    // Strict bodies: no silent type coercion, no silently dropped unknown fields. `verbose` puts
    // the failing object and its schema on an error, so a refusal can name the field meant.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, verbose: true } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  installErrorHandler(app);
  jsonBodies(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Lockstep', version: options.version, description: 'Webhook delivery: never floods a receiver, never loses an accepted message.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  const eventTypes = new EventTypes({ store: options.store, requireKnown: options.requireKnownEventTypes, log: options.log });
  eventTypeDocs(app, eventTypes);
  await app.register(swaggerUi, docsPageOptions());
  await app.register(uiRoutes);
  await app.register(healthRoutes, { store: options.store, locks: options.locks });
  await app.register((scope, _options, done) => {
    if (options.metricsTokens) requireBearerToken(scope, options.metricsTokens);
    scope.get(
      '/metrics',
      {
        schema: {
          tags: ['health'],
          operationId: 'getMetrics',
          summary: 'Prometheus metrics (bearer token: LOCKSTEP_METRICS_TOKEN or an API token, unless LOCKSTEP_METRICS_PUBLIC=true)',
          ...(options.metricsTokens ? {} : { security: [] }),
          response: {
            200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' }, example: METRICS_EXAMPLE } } },
            ...(options.metricsTokens ? { 401: withExample(ErrorBodySchema, errorBodyOf(unauthorized())) } : {}),
          },
        },
      },
      async (_request, reply) => reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
    );
    done();
  });
  await app.register(
    async (v1) => {
      const { store, locks, guard, metrics, defaultTimeoutMs, log } = options;
      const tokens = new Tokens({ store, log });
      authenticate(v1, options.tokens, tokens);
      authorize(v1, store);
      const messages = new Messages({ store, metrics, eventTypes, log });
      const events = new OperationalEvents(messages, store, metrics, log);
      const receivers = new Receivers({ store, locks, guard, defaultTimeoutMs, events, log });
      await v1.register(receiverRoutes, { receivers });
      await v1.register(messageRoutes, { messages, bodyLimitBytes: options.bodyLimitBytes, tracing: options.tracing });
      await v1.register(messageListRoutes, { messages });
      await v1.register(receiverTestRoutes, { messages });
      await v1.register(eventTypeRoutes, { eventTypes });
      await v1.register(tenantRoutes, { tenants: new Tenants({ store, receivers, tokens, log }) });
      await v1.register(tokenRoutes, { tokens });
      await v1.register(lockRoutes, { locks: options.locks });
      await v1.register(statsRoutes, { store: options.store, queues: options.queues, locks: options.locks });
    },
    { prefix: '/v1' },
  );
  return app;
}
