// The design sketch this project started from, as a baseline for the hot-receiver scenario: one
// BullMQ job per delivery, a receiver lock taken per job, and the job put back when the receiver
// is busy (worker concurrency 64). Run in its own process so that it is measured like Lockstep:
//   node --import tsx bench/literal-design.ts <redisUrl> <receiverUrl> <count>
// It queues <count> jobs, works them off and exits; the receiver counts the arrivals.
import { DelayedError, Queue, Worker } from 'bullmq';
import { request } from 'undici';
import { RedisReceiverLocks } from '../src/locks/redis.js';

const [redisUrl, receiverUrl, countArg] = process.argv.slice(2) as [string, string, string];
const count = Number(countArg);
const PREFIX = 'literal';
const BUSY_RETRY_MS = 5;

const connection = { url: redisUrl, maxRetriesPerRequest: null };
const queue = new Queue<{ n: number }>('deliveries', { connection, prefix: PREFIX });
await queue.addBulk(Array.from({ length: count }, (_, n) => ({ name: 'delivery', data: { n }, opts: { removeOnComplete: true, removeOnFail: true } })));
const locks = new RedisReceiverLocks(redisUrl, { emitterId: 'literal', ttlMs: 10_000, prefix: PREFIX });
await locks.start();

let done = 0;
let bounced = 0;
// stopped early (a drain budget ran out): still say how often the receiver was busy
process.once('SIGTERM', () => {
  console.log(JSON.stringify({ done, bounced }));
  process.exit(0);
});
let allDone = (): void => {};
const finished = new Promise<void>((resolve) => (allDone = resolve));
const worker = new Worker<{ n: number }>(
  'deliveries',
  async (job, token) => {
    const lock = await locks.acquire('hot', { waitMs: 0 });
    if (!lock) {
      bounced++;
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    try {
      const body = JSON.stringify({ type: 'bench.literal', data: { n: job.data.n }, fence: lock.fence });
      const response = await request(receiverUrl, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'webhook-id': `lit_${job.data.n}` },
        signal: lock.lost,
      });
      await response.body.text();
    } finally {
      await locks.release(lock);
    }
    if (++done === count) allDone();
  },
  { connection, prefix: PREFIX, concurrency: 64 },
);
await finished;
console.log(JSON.stringify({ done, bounced }));
await worker.close();
await queue.close();
await locks.close();
process.exit(0);
