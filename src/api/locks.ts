import type { FastifyPluginAsync } from 'fastify';
import type { ReceiverLocks } from '../locks/types.js';
import { examples } from './examples.js';
import { errorResponses, withExample } from './schemas.js';

export const lockRoutes: FastifyPluginAsync<{ locks: ReceiverLocks }> = async (app, { locks }) => {
  app.get('/locks', {
    schema: {
      tags: ['locks'],
      summary: 'Who holds which receiver right now, across every emitter',
      response: {
        200: withExample({
          type: 'object',
          properties: {
            backend: { type: 'string' },
            data: {
              type: 'array',
              items: { type: 'object', properties: { receiverId: { type: 'string' }, emitterId: { type: 'string' }, fence: { type: 'integer' }, since: { type: 'string' } } },
            },
          },
        }, { backend: 'redis', data: [examples.lock] }),
        ...errorResponses(),
      },
    },
  }, async () => ({ backend: locks.backend, data: await locks.holders() }));
};
