import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { ReceiverLocks } from '../locks/types.js';
import { readFleet } from '../metrics/fleet.js';
import type { QueueSnapshot } from '../metrics/index.js';
import { StatsResponse, type Stats } from '../shapes/fleet.js';
import type { Store } from '../store/index.js';
import { examples } from './examples.js';
import { errorResponses, withExample } from './schemas.js';

const STATS_EXAMPLE: Stats = {
  at: examples.at,
  lockBackend: 'redis',
  queue: { depth: { pending: 120, retrying: 3, dead: 1 }, oldestAgeS: { pending: 0.8, retrying: 41.5 } },
  processes: [
    {
      id: 'worker-1-4242',
      role: 'emitter',
      host: 'worker-1',
      pid: 4242,
      version: '0.1.0',
      startedAt: '2026-11-22T09:00:00.000Z',
      reportedAt: examples.at,
      accepted: 0,
      attempts: { delivered: 18211, failed: 40, dead: 1, gone: 0, aborted: 2 },
      receiversHeld: 12,
      lagBucketsMs: [
        [5, 9120],
        [10, 15002],
        [25, 17800],
        [50, 18100],
        [100, 18190],
        [250, 18205],
        [500, 18208],
        [1000, 18209],
        [2500, 18210],
        [5000, 18210],
        [10000, 18210],
        [30000, 18211],
        [60000, 18211],
        [300000, 18211],
        [1800000, 18211],
        [3600000, 18211],
      ],
    },
  ],
};

/** The whole fleet at a glance: every running process's counters and the queues, for the dashboard. */
export const statsRoutes: FastifyPluginCallbackTypebox<{ store: Store; queues: QueueSnapshot; locks: ReceiverLocks }> = (
  app,
  { store, queues, locks },
  done,
) => {
  app.get(
    '/stats',
    {
      schema: {
        tags: ['health'],
        operationId: 'getStats',
        summary: 'Every running Lockstep process with its counters (reported every 2 s), and queue depths',
        description:
          'Counters are totals since each process started (the same figures as its /metrics); rates are differences between two reads of the same process. A process not heard from for 6 s is left out.',
        response: {
          200: withExample(StatsResponse, STATS_EXAMPLE),
          ...errorResponses(),
        },
      },
    },
    async () => {
      const [queue, processes] = await Promise.all([queues.read(), readFleet(store)]);
      return { at: new Date().toISOString(), lockBackend: locks.backend, queue, processes };
    },
  );
  done();
};
