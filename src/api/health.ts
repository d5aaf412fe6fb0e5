import type { FastifyPluginAsync } from 'fastify';
import type { ReceiverLocks } from '../locks/types.js';
import type { Store } from '../store/index.js';
import { withExample } from './schemas.js';

const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] }, redis: { type: 'boolean' },
    lockBackend: { type: 'object', properties: { name: { type: 'string' }, ok: { type: 'boolean' } } },
  },
} as const;

/** Liveness and readiness, without auth, for load balancers and orchestrators. */
export const healthRoutes: FastifyPluginAsync<{ store: Store; locks: ReceiverLocks }> = async (app, { store, locks }) => {
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is up', response: { 200: withExample({ type: 'object', properties: { status: { type: 'string' } } }, { status: 'ok' }) } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      tags: ['health'], summary: '200 when Redis and the lock backend answer, else 503',
      response: {
        200: withExample(readiness, { status: 'ready', redis: true, lockBackend: { name: 'etcd', ok: true } }),
        503: withExample(readiness, { status: 'unavailable', redis: true, lockBackend: { name: 'etcd', ok: false } }),
      },
    },
  }, async (_request, reply) => {
    const [redis, lockBackend] = await Promise.all([withTimeout(store.ping()), withTimeout(locks.ping())]);
    const ready = redis && lockBackend;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', redis, lockBackend: { name: locks.backend, ok: lockBackend } });
  });
};

function withTimeout(check: Promise<boolean>, ms = 2000): Promise<boolean> {
  return Promise.race([check, new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref())]);
}
