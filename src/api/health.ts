import type { FastifyPluginAsync } from 'fastify';
import type { ReceiverLocks } from '../locks/types.js';
import type { Store } from '../store/index.js';

/** Liveness and readiness, without auth, for load balancers and orchestrators. */
export const healthRoutes: FastifyPluginAsync<{ store: Store; locks: ReceiverLocks }> = async (app, { store, locks }) => {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['health'], summary: '200 when Redis and the lock backend answer, else 503' } }, async (_request, reply) => {
    const [redis, lockBackend] = await Promise.all([withTimeout(store.ping()), withTimeout(locks.ping())]);
    const ready = redis && lockBackend;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', redis, lockBackend: { name: locks.backend, ok: lockBackend } });
  });
};

function withTimeout(check: Promise<boolean>, ms = 2000): Promise<boolean> {
  return Promise.race([check, new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref())]);
}
