import { Worker, type Job } from 'bullmq';
import type { Config } from '../config/index.js';
import type { DeliveryClient } from '../delivery/client.js';
import { serviceOf } from '../locks/failure.js';
import type { ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import { sleep } from '../lib/abort.js';
import { connectRedis, type RedisClient } from '../redis.js';
import { DRAIN_QUEUE, type DrainJob } from '../store/drain-queue.js';
import type { Store } from '../store/index.js';
import type { Tracing } from '../tracing/index.js';
import type { RecordedListener } from './attempt-accounting.js';
import { ReceiverDrainer } from './drain.js';
import { LockServiceGate } from './lock-gate.js';
import { StuckWorkers, WATCH_MS } from './stuck-workers.js';

/** Pause before offering a receiver that another process holds to the queue again. */
const BUSY_RETRY_MS = 250;
/** Pause before a drain job whose turn failed (Redis gone mid-turn, say) is handed back to the queue. */
const FAILED_TURN_PAUSE_MS = 1000;
/** How often each emitter turns due entries of the wake set into drain jobs. */
const WAKE_POLL_MS = 100;
/**
 * A turn whose queue empties waits this long for new work before giving the lock back (linger.ts),
 * while fewer than half the emitter's concurrency is in use: long enough for a steady stream to an
 * otherwise idle receiver (200/s is a message every 5 ms), short against any receiver's timeout.
 */
const LINGER_MS = 50;
/** How long an idle queue worker blocks waiting for a job before it looks again (s): see newWorker. */
const DRAIN_DELAY_S = 1;
/** Longest a stop waits for the workers' blocking connections to finish starting (see blockingStartup). */
const STARTUP_WAIT_MS = 2000;
/** Longest a graceful stop waits for in-flight turns (a receiver's timeout is at most 120 s). */
const STOP_GRACE_MS = 130_000;
/** How long a stop still waits for the queue once no turn runs: with Redis up, the workers have closed by then. */
const IDLE_CLOSE_MS = 5000;

export interface EmitterOptions {
  config: Config;
  store: Store;
  locks: ReceiverLocks;
  client: DeliveryClient;
  log: Logger;
  metrics: Metrics;
  /** How often to look for receivers with work but no drain job (after a crash mid-intake). */
  reconcileEveryMs: number;
  tracing: Tracing | undefined;
  /** Told of every batch of attempts written (the operational events: domain/operational-events.ts). */
  onRecorded?: RecordedListener;
}

/**
 * An emitter process's work loop: a BullMQ worker whose jobs are "drain receiver X" turns.
 * `concurrency` receivers are served at once. BullMQ's job lock is NOT the receiver lock (a
 * stalled job can run twice, and then the second run just waits for the receiver lock); it only
 * brings a crashed emitter's job back quickly.
 */
export class Emitter {
  readonly drainer: ReceiverDrainer;
  private readonly stopping = new AbortController();
  private readonly connection: RedisClient;
  /** One BullMQ worker per shard group's queue (store/keys.ts), each serving up to `emitterConcurrency` turns. */
  private workers: Worker<DrainJob>[] = [];
  /** Turns running per group (the workers' busy slots). */
  private active: number[] = [];
  /** Workers replaced as stuck (stuck-workers.ts) whose close has not ended yet. */
  private readonly retired = new Set<Worker<DrainJob>>();
  private readonly stuck: StuckWorkers;
  /** Closed while the lock service does not answer: the workers are paused (lock-gate.ts). */
  private readonly gate: LockServiceGate;
  private watcher: NodeJS.Timeout | undefined;
  private reconciler: NodeJS.Timeout | undefined;
  private waker: NodeJS.Timeout | undefined;
  private promoting = false;

  constructor(private readonly options: EmitterOptions) {
    const { config, store, locks, client, log, metrics } = options;
    this.connection = connectRedis(store.redisTarget);
    this.connection.on('error', () => {});
    this.drainer = new ReceiverDrainer(
      locks,
      store.deliveries,
      client,
      {
        emitterId: config.emitterId,
        lockWaitMs: Math.min(config.lockTtlMs, 5000),
        maxMessagesPerTurn: config.maxMessagesPerTurn,
        maxTurnMs: config.maxTurnMs,
        retry: {
          schedule: config.retrySchedule,
          strictSchedule: config.strictRetrySchedule,
          breakerFailures: config.breakerFailures,
          throttledMinMs: config.throttledMinMs,
          retryAfterMaxMs: config.retryAfterMaxMs,
        },
        keyChanges: store.watchKeyChanges(),
        othersWaiting: () => store.drains.hasWaiting(),
        linger: { ms: LINGER_MS, whileTurnsBelow: Math.max(1, Math.floor(config.emitterConcurrency / 2)), work: store.watchWork() },
        lockServiceSilent: (why) => this.gate.suspect(why),
        ...(options.tracing ? { tracing: options.tracing } : {}),
        ...(options.onRecorded ? { onRecorded: options.onRecorded } : {}),
      },
      log,
      this.stopping.signal,
      metrics,
    );
    metrics.watchLocks(locks, () => this.drainer.counters.aborted);
    this.stuck = new StuckWorkers(store.drains.prefixes.length);
    this.gate = new LockServiceGate(
      () => locks.ping(),
      {
        pause: async () => void (await Promise.all(this.workers.map((worker) => worker.pause(true)))),
        resume: () => this.workers.forEach((worker) => worker.resume()),
      },
      log,
      this.stopping.signal,
    );
  }

  start(): void {
    const groups = this.options.store.drains.prefixes.length;
    this.active = Array.from({ length: groups }, () => 0);
    this.workers = Array.from({ length: groups }, (_, g) => this.newWorker(g));
    this.reconciler = setInterval(() => void this.reconcile(), this.options.reconcileEveryMs);
    this.reconciler.unref();
    this.waker = setInterval(() => void this.promoteDue(), WAKE_POLL_MS);
    this.waker.unref();
    this.watcher = setInterval(() => void this.replaceStuckWorkers(), WATCH_MS);
    this.watcher.unref();
  }

  /** The worker of shard group g's drain queue. */
  private newWorker(g: number): Worker<DrainJob> {
    const { config, log, store } = this.options;
    const run = async (job: Job<DrainJob>): Promise<void> => {
      this.active[g] = (this.active[g] ?? 0) + 1;
      try {
        await this.process(job);
      } finally {
        this.active[g] = (this.active[g] ?? 1) - 1;
      }
    };
    const worker = new Worker<DrainJob>(DRAIN_QUEUE, run, {
      connection: this.connection,
      prefix: store.drains.prefixes[g] as string,
      concurrency: config.emitterConcurrency,
      // A killed emitter's job must be back in the queue before its receiver lock expires, so the
      // next emitter is already waiting on the lock when it frees: job lock TTL/2, checked every TTL/4.
      lockDuration: Math.max(1000, Math.floor(config.lockTtlMs / 2)),
      stalledInterval: Math.max(250, Math.min(2500, Math.floor(config.lockTtlMs / 4))),
      maxStalledCount: 1_000_000,
      // An idle worker blocks on the queue's wake-up marker this long (BullMQ's default: 5 s). A
      // worker cut off from Redis but still connected as far as Redis knows (a blackholed link)
      // takes the next marker into the void, so the others see that job only when their block
      // times out: 1 s, not 5, is then how late a job given back by a stalled emitter starts.
      drainDelay: DRAIN_DELAY_S,
      // a replacement made while the lock service is cut off starts paused, as the others are
      autorun: this.gate.open,
    });
    worker.on('error', (error) => log.warn({ err: error }, 'queue worker error (will retry)'));
    worker.on('failed', (job, error) => {
      this.options.metrics.backendError(serviceOf(error));
      log.warn({ receiverId: job?.data.receiverId, err: error }, 'drain turn failed; it will be retried');
    });
    return worker;
  }

  /** Replaces the workers that took no waiting job while they had room (stuck-workers.ts). */
  private async replaceStuckWorkers(): Promise<void> {
    const { config, log, store } = this.options;
    const waiting = await store.drains.waitingByGroup().catch(() => undefined);
    if (!waiting || this.stopping.signal.aborted) return;
    // a paused worker takes no job by design: no strike against it
    const room = this.active.map((turns) => this.gate.open && turns < config.emitterConcurrency);
    for (const g of this.stuck.look(waiting, room)) {
      log.warn({ queue: store.drains.prefixes[g], watchMs: WATCH_MS }, 'drain queue worker took no waiting job while it had room; replacing it');
      const old = this.workers[g] as Worker<DrainJob>;
      this.workers[g] = this.newWorker(g);
      this.retired.add(old);
      void old
        .close()
        .catch(() => {})
        .finally(() => this.retired.delete(old));
    }
  }

  /**
   * Stops taking work, ends every turn after its in-flight request, hands the jobs back, releases
   * locks. If the queue cannot be reached to hand jobs back, it gives up `IDLE_CLOSE_MS` after the
   * last turn ended (BullMQ's close would wait for Redis), and after `STOP_GRACE_MS` at the latest:
   * the jobs' BullMQ locks expire and other emitters take them over, as after a crash.
   */
  async stop(): Promise<void> {
    clearInterval(this.reconciler);
    clearInterval(this.waker);
    clearInterval(this.watcher);
    this.stopping.abort();
    // stuck, so their close may never end: forced
    for (const old of this.retired) void old.close(true).catch(() => {});
    await Promise.race([Promise.allSettled(this.workers.map(blockingStartup)), sleep(STARTUP_WAIT_MS)]);
    const closed = Promise.all(this.workers.map((worker) => worker.close()));
    const idle = this.noTurnRunning().then(() => sleep(IDLE_CLOSE_MS));
    const timedOut = await Promise.race([closed.then(() => false), idle.then(() => true), sleep(STOP_GRACE_MS).then(() => true)]);
    if (timedOut) {
      this.options.log.warn({ graceMs: STOP_GRACE_MS, idleCloseMs: IDLE_CLOSE_MS }, 'queue unreachable while stopping: leaving in-flight jobs to expire');
      for (const worker of this.workers) void worker.close(true).catch(() => {});
    }
    this.connection.disconnect();
  }

  /** Resolves once no turn runs (a job taken by a fetch already under way ends at once: the stop has aborted its acquire). */
  private async noTurnRunning(): Promise<void> {
    while (this.active.some((turns) => turns > 0)) await sleep(100);
  }

  /**
   * One turn; work left for later is noted in the wake set (Redis's clock; due now: a job at once)
   * and the job completes. While the lock service does not answer, the job goes back untried.
   */
  private async process(job: Job<DrainJob>): Promise<void> {
    const { drains } = this.options.store;
    try {
      // taken by a fetch already under way when the workers paused
      if (!this.gate.open) return await drains.later(job.data.receiverId, BUSY_RETRY_MS);
      const end = await this.drainer.runTurn(job.data.receiverId);
      if (end.kind === 'done') return;
      await drains.later(job.data.receiverId, end.kind === 'busy' ? BUSY_RETRY_MS : end.inMs);
    } catch (error) {
      // BullMQ retries the job at once (drain-queue.ts): the pause before it is on the monotonic clock
      await sleep(FAILED_TURN_PAUSE_MS, this.stopping.signal);
      throw error;
    }
  }

  private async promoteDue(): Promise<void> {
    if (this.promoting) return;
    this.promoting = true;
    try {
      await this.options.store.drains.promoteDue();
    } catch (error) {
      this.options.log.debug({ err: error }, 'wake-up promotion skipped: Redis unavailable');
    } finally {
      this.promoting = false;
    }
  }

  /**
   * Finishes fan-outs to several shard groups that an accept left unfinished (store/sharded-intake.ts),
   * gives every receiver that has work but neither a drain job nor a wake-up noted a job (no-op when
   * all is well), and drops dead letters past the retention from receivers that stopped failing (a
   * bounded batch).
   */
  private async reconcile(): Promise<void> {
    const { store, log } = this.options;
    try {
      const finished = await store.messages.finishUnfinished();
      if (finished > 0) log.info({ messages: finished }, 'finished the fan-out of messages whose accept was cut short');
      const orphans = await store.drains.withoutJob(await store.receivers.withWork());
      if (orphans.length > 0) {
        log.info({ receivers: orphans.length }, 'scheduling receivers that had work but no drain job');
        await store.drains.schedule(orphans);
      }
    } catch (error) {
      log.debug({ err: error }, 'reconcile skipped: Redis unavailable');
    }
    // after the orphan check, and apart from it: a failure here must never keep a receiver without its job
    await store.queueStats.trimExpiredDeadLetters().catch((error: unknown) => log.debug({ err: error }, 'dead-letter trim skipped'));
  }
}

/**
 * A worker's blocking connection's start-up (BullMQ 5: a private field, read here only). Closing a
 * worker while it is still under way crashes the process: close() removes the connection's
 * listeners, then the start-up's failed INFO is emitted as an 'error' nobody listens to (seen on a
 * SIGTERM a few ms after start). So a stop lets it settle first.
 */
function blockingStartup(worker: Worker<DrainJob>): Promise<unknown> {
  const { blockingConnection } = worker as unknown as { blockingConnection?: { client?: Promise<unknown> } };
  return blockingConnection?.client ?? Promise.resolve();
}
