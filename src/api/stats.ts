import type { FastifyPluginAsync } from 'fastify';
import type { ReceiverLocks } from '../locks/types.js';
import { readFleet } from '../metrics/fleet.js';
import type { QueueSnapshot } from '../metrics/index.js';
import type { FleetStats } from '../metrics/types.js';
import type { Store } from '../store/index.js';
import { errorSchema } from './schemas.js';

const counts = { type: 'object', additionalProperties: { type: 'number' } } as const;

const processSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, role: { type: 'string', enum: ['all', 'api', 'emitter'] }, host: { type: 'string' }, pid: { type: 'integer' },
    version: { type: 'string' }, startedAt: { type: 'string' }, reportedAt: { type: 'string' },
    accepted: { type: 'number', description: 'messages this process accepted since it started' },
    attempts: { ...counts, description: 'delivery attempts this process made since it started, by outcome' },
    receiversHeld: { type: 'integer' },
    lagBucketsMs: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: 'cumulative histogram of acceptance → 2xx: [upper bound ms, deliveries]' },
  },
} as const;

/** The whole fleet at a glance: every running process's counters and the queues, for the dashboard. */
export const statsRoutes: FastifyPluginAsync<{ store: Store; queues: QueueSnapshot; locks: ReceiverLocks }> = async (app, { store, queues, locks }) => {
  app.get('/stats', {
    schema: {
      tags: ['health'],
      summary: 'Every running Lockstep process with its counters (reported every 2 s), and queue depths',
      description: 'Counters are totals since each process started (the same figures as its /metrics); rates are differences between two reads of the same process. A process not heard from for 6 s is left out.',
      response: {
        200: {
          type: 'object',
          properties: {
            at: { type: 'string' }, lockBackend: { type: 'string' },
            queue: { type: 'object', properties: { depth: counts, oldestAgeS: counts } },
            processes: { type: 'array', items: processSchema },
          },
        },
        401: errorSchema, 503: errorSchema,
      },
    },
  }, async (): Promise<FleetStats> => {
    const [queue, processes] = await Promise.all([queues.read(), readFleet(store)]);
    return { at: new Date().toISOString(), lockBackend: locks.backend, queue, processes };
  });
};
