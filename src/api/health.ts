import { Type, type FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { within } from '../lib/within.js';
import type { ReceiverLocks } from '../locks/types.js';
import { ErrorBodySchema } from '../shapes/common.js';
import { HealthResponse, ReadinessResponse } from '../shapes/fleet.js';
import type { Store } from '../store/index.js';
import { withExample } from './schemas.js';

/** fastify's own body for a request that arrives while the server closes: no Lockstep `code`. */
const ClosingBody = Type.Omit(ErrorBodySchema, ['code', 'field']);

/** Liveness and readiness, without auth, for load balancers and orchestrators. */
export const healthRoutes: FastifyPluginCallbackTypebox<{ store: Store; locks: ReceiverLocks }> = (app, { store, locks }, done) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getHealth',
        summary: 'The process is up',
        response: {
          200: withExample(HealthResponse, { status: 'ok' }),
          // fastify's own answer to requests arriving while the process shuts down (return503OnClosing)
          503: withExample(ClosingBody, { statusCode: 503, error: 'Service Unavailable', message: 'Service Unavailable' }),
        },
      },
    },
    (_request, reply) => {
      void reply.send({ status: 'ok' });
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        summary: '200 when Redis and the lock backend answer, else 503',
        response: {
          200: withExample(ReadinessResponse, { status: 'ready', redis: true, lockBackend: { name: 'etcd', ok: true } }),
          503: withExample(ReadinessResponse, { status: 'unavailable', redis: true, lockBackend: { name: 'etcd', ok: false } }),
        },
      },
    },
    async (_request, reply) => {
      const [redis, lockBackend] = await Promise.all([within(store.ping(), 2000, false), within(locks.ping(), 2000, false)]);
      const ready = redis && lockBackend;
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', redis, lockBackend: { name: locks.backend, ok: lockBackend } });
    },
  );
  done();
};
