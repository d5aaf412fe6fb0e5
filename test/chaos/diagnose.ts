import { Queue } from 'bullmq';
import type { RedisClient } from '../../src/redis.js';
import type { ApiClient } from '../support/lockstep.js';

/**
 * Why a receiver's queue is still open after the settle phase, as facts read from the system:
 * its next retry and breaker probe (the API's health), who holds its lock (/v1/locks), and its
 * BullMQ drain job (when it is due, read from the delayed set, or its state), and its entry in the
 * wake set (a turn's work for later, on Redis's clock). Each in seconds from now: a time ~120 s or ~240 s out is a
 * schedule written on a stepped wall clock.
 */
export async function whyOpen(client: ApiClient, redis: RedisClient, ids: Map<string, string>, prefix = 'lockstep'): Promise<Map<string, string>> {
  const now = Date.now();
  const inS = (at: number): string => `${Math.round((at - now) / 1000)} s`;
  const jobs = await delayedDrainJobs(redis, prefix).catch(() => new Map<string, number>());
  const queue = new Queue('drain', { connection: redis, prefix });
  const locks = await client.request<{ data: { receiverId: string; emitterId: string; fence: number; since: string }[] }>('GET', '/v1/locks').then(
    ({ body }) => body.data,
    () => [],
  );
  const notes = new Map<string, string>();
  for (const [name, id] of ids) {
    const { body } = await client
      .request<{ health?: { nextRetryAt: string | null; breaker?: { state: string; nextProbeAt: string | null } } }>('GET', `/v1/receivers/${id}`)
      .catch(() => ({ body: undefined }));
    const facts: string[] = [];
    const retryAt = body?.health?.nextRetryAt;
    if (retryAt) facts.push(`next retry in ${inS(Date.parse(retryAt))}`);
    const breaker = body?.health?.breaker;
    if (breaker?.state === 'open') facts.push(`breaker open${breaker.nextProbeAt ? `, next probe in ${inS(Date.parse(breaker.nextProbeAt))}` : ''}`);
    const holder = locks.find((l) => l.receiverId === id);
    facts.push(
      holder
        ? `its lock is held by ${holder.emitterId} under fence ${holder.fence} for ${Math.round((now - Date.parse(holder.since)) / 1000)} s`
        : 'its lock is free',
    );
    const due = jobs.get(id);
    facts.push(due !== undefined ? `its drain job is delayed until ${inS(due)} from now` : await jobState(queue, id, now));
    const wakeAt = await redis.zscore(`${prefix}:wake`, id).catch(() => null);
    if (wakeAt !== null) facts.push(`its next turn is noted in the wake set for ${inS(Number(wakeAt))} from now`);
    notes.set(name, facts.join(', '));
  }
  await queue.close();
  return notes;
}

/** The receiver's drain job as BullMQ has it: missing, waiting, or active (and for how long). */
async function jobState(queue: Queue, receiverId: string, now: number): Promise<string> {
  try {
    const jobId = await queue.getDeduplicationJobId(receiverId);
    const job = jobId ? await queue.getJob(jobId) : undefined;
    if (!job) return 'it has no drain job';
    const state = await job.getState();
    return `its drain job is ${state}${state === 'active' && job.processedOn ? ` (taken ${Math.round((now - job.processedOn) / 1000)} s ago)` : ''}`;
  } catch (error) {
    return `its drain job could not be read (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Receiver id → when its delayed drain job is due (epoch ms). BullMQ scores a delayed job timestamp × 4096 + a counter. */
async function delayedDrainJobs(redis: RedisClient, prefix: string): Promise<Map<string, number>> {
  const entries = await redis.zrange(`${prefix}:drain:delayed`, 0, -1, 'WITHSCORES');
  const due = new Map<string, number>();
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const data = await redis.hget(`${prefix}:drain:${entries[i] as string}`, 'data');
    const receiverId = data ? (JSON.parse(data) as { receiverId?: string }).receiverId : undefined;
    if (receiverId) due.set(receiverId, Math.floor(Number(entries[i + 1]) / 4096));
  }
  return due;
}
