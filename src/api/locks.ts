import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { ReceiverLocks } from '../locks/types.js';
import { LocksResponse } from '../shapes/fleet.js';
import { examples } from './examples.js';
import { errorResponses, withExample } from './schemas.js';

export const lockRoutes: FastifyPluginCallbackTypebox<{ locks: ReceiverLocks }> = (app, { locks }, done) => {
  app.get(
    '/locks',
    {
      schema: {
        tags: ['locks'],
        operationId: 'listLocks',
        summary: 'Who holds which receiver (each held slot of it) right now, across every emitter',
        response: { 200: withExample(LocksResponse, { backend: 'redis', data: [examples.lock] }), ...errorResponses() },
      },
    },
    async () => ({ backend: locks.backend, data: await locks.holders() }),
  );
  done();
};
