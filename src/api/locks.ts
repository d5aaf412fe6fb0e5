import type { FastifyPluginAsync } from 'fastify';
import type { ReceiverLocks } from '../locks/types.js';
import { examples } from './examples.js';
import { errorResponses, withExample } from './schemas.js';

export const lockRoutes: FastifyPluginAsync<{ locks: ReceiverLocks }> = async (app, { locks }) => {
  app.get('/locks', {
    schema: {
      tags: ['locks'],
      summary: 'Who holds which receiver (each held slot of it) right now, across every emitter',
      response: {
        200: withExample({
          type: 'object',
          properties: {
            backend: { type: 'string' },
            data: {
              type: 'array',
              items: { type: 'object', properties: {
                  receiverId: { type: 'string' },
                  slot: { type: 'integer', description: 'which of the receiver\'s maxInFlight lock slots: 0 is its own lock (the one emitter dispatching to it), 1… the other lanes' },
                  emitterId: { type: 'string' }, fence: { type: 'integer', description: 'the slot\'s own fence' }, since: { type: 'string' },
                },
              },
            },
          },
        }, { backend: 'redis', data: [examples.lock] }),
        ...errorResponses(),
      },
    },
  }, async () => ({ backend: locks.backend, data: await locks.holders() }));
};
