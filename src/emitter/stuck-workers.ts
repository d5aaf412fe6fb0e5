/**
 * Finds a drain-queue worker whose fetch loop is stuck. A BullMQ worker waits for jobs on a
 * blocking connection of its own, and after a Redis restart that connection may never come back
 * (seen on Redis Cluster after a master restart, about one run in five; BullMQ issues #4479 and
 * #4585 describe the same on one Redis): the worker still says it runs and takes nothing, and the
 * receivers of its queue stall. A worker that works, with a free slot, takes a waiting job at once
 * (or within its block timeout, when a wake-up marker was lost with the restart). So a job waiting
 * at two looks `WATCH_MS` apart while this process's worker of that queue had a free slot both
 * times means that worker is stuck: the emitter replaces it.
 */
export class StuckWorkers {
  private readonly strikes: number[];

  constructor(groups: number) {
    this.strikes = Array.from({ length: groups }, () => 0);
  }

  /** One look: per group, whether a job waits and whether this process's worker has a free slot; the groups whose worker is stuck. */
  look(waiting: readonly boolean[], room: readonly boolean[]): number[] {
    const stuck: number[] = [];
    waiting.forEach((jobWaits, g) => {
      const strikes = jobWaits && room[g] ? (this.strikes[g] ?? 0) + 1 : 0;
      this.strikes[g] = strikes >= 2 ? 0 : strikes;
      if (strikes >= 2) stuck.push(g);
    });
    return stuck;
  }
}

/** How often the emitter looks (longer than its workers' block timeout, `drainDelay`: emitter.ts). */
export const WATCH_MS = 6000;
