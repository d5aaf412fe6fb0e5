import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/**
 * Each running process's latest report (JSON it builds itself), kept in Redis so the API can show
 * the whole fleet: a key per process that expires unless renewed, and a sorted set of process ids
 * by time of their last report. Two commands per report, nothing per delivery.
 */
export class FleetReports {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
  ) {}

  /** Writes a process's report; it is forgotten after `forgetAfterMs` unless written again. */
  async write(processId: string, reportJson: string, forgetAfterMs: number): Promise<void> {
    await this.redis.multi().set(this.keys.process(processId), reportJson, 'PX', forgetAfterMs).zadd(this.keys.processes, Date.now(), processId).exec();
  }

  /** Takes a process off the list at once (a stopped process is not "gone"). */
  async remove(processId: string): Promise<void> {
    await this.redis.multi().del(this.keys.process(processId)).zrem(this.keys.processes, processId).exec();
  }

  /** The reports of processes heard from within `forgetAfterMs`, as written. */
  async read(forgetAfterMs: number): Promise<string[]> {
    await this.redis.zremrangebyscore(this.keys.processes, '-inf', Date.now() - forgetAfterMs);
    const ids = await this.redis.zrange(this.keys.processes, 0, -1);
    if (ids.length === 0) return [];
    const reports = await this.redis.mget(ids.map((id) => this.keys.process(id)));
    return reports.filter((json): json is string => json !== null);
  }
}
