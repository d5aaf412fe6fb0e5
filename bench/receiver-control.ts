import { waitFor } from '../test/support/ports.js';
import { now } from './clock.js';
import { startHelper, type HelperProcess } from './helper-process.js';

/** The longest a drain's wait for arrivals lasts before the benchmark looks again (quiet drain, budget). */
const DRAIN_WAIT_MS = 250;

export interface ReceiverStats {
  count: number;
  /** Epoch ms of the first and last arrival since the last reset. */
  first: number | null;
  last: number | null;
}

/** Ms from an answer's end to the client's next request on that connection: median and 90th percentile (null: none yet). */
/** Median and p90 in ms, null before any sample. */
export interface Spread {
  p50: number | null;
  p90: number | null;
}

/** The client's time per request (answer → its next request) and the receiver's own (arrival → answer). */
export interface Turnaround extends Spread {
  answered: Spread;
}

/** Every arrival since the last reset, as parallel arrays (cheap to serialise). */
export interface Arrivals {
  at: number[];
  id: string[];
  fence: number[];
}

export interface HungRequest {
  id: string;
  start: number;
  /** When the receiver saw the socket close (the sender aborted), or null while open. */
  closedAt: number | null;
}

/** The benchmark's receiver process (bench/receiver.ts), driven over its control endpoints. */
export class BenchReceiver {
  private constructor(private readonly helper: HelperProcess) {}

  static async start(): Promise<BenchReceiver> {
    return new BenchReceiver(await startHelper('./receiver.ts'));
  }

  get pid(): number {
    return this.helper.pid;
  }

  get origin(): string {
    return this.helper.url;
  }

  /** The webhook URL of receiver `name` (answers at once) or, with `hang`, one that never answers. */
  url(name: string, hang = false): string {
    return `${this.helper.url}/${hang ? 'hang' : 'r'}/${name}`;
  }

  /** The webhook URL of receiver `name` answering after `delayMs`. */
  slowUrl(name: string, delayMs: number): string {
    return `${this.helper.url}/slow/${delayMs}/${name}`;
  }

  stats(): Promise<ReceiverStats> {
    return this.get<ReceiverStats>('/__stats');
  }

  arrivals(): Promise<Arrivals> {
    return this.get<Arrivals>('/__arrivals');
  }

  turnaround(): Promise<Turnaround> {
    return this.get<Turnaround>('/__turnaround');
  }

  hung(): Promise<HungRequest[]> {
    return this.get<HungRequest[]>('/__hung');
  }

  async reset(): Promise<void> {
    await this.get('/__reset');
  }

  /** Waits until `count` requests have arrived since the last reset; returns the stats then. */
  async waitForCount(count: number, timeoutMs: number, what = `${count} arrivals`): Promise<ReceiverStats> {
    const { stats, complete } = await this.drain(count, timeoutMs);
    if (!complete) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${stats.count} of ${count} arrived)`);
    return stats;
  }

  /**
   * Waits until the arrivals since the last reset span `spanMs` (last − first, on the receiver's
   * own clock: another process's wall clock may have been stepped meanwhile) and returns them.
   */
  async arrivalsSpanning(spanMs: number, timeoutMs: number): Promise<Arrivals> {
    const spanned = async (): Promise<boolean> => {
      const { first, last } = await this.stats();
      return first !== null && last !== null && last - first >= spanMs;
    };
    await waitFor(`arrivals spanning ${spanMs} ms`, spanned, timeoutMs, 100);
    return this.arrivals();
  }

  /**
   * Waits until `count` requests have arrived since the last reset, or `budgetMs` has passed, or
   * (with `quietMs`) nothing has arrived for that long since the last arrival: a drain is measured
   * for a bounded time, over what arrived by then.
   */
  async drain(count: number, budgetMs: number, { quietMs = Infinity } = {}): Promise<{ stats: ReceiverStats; complete: boolean }> {
    const deadline = now() + budgetMs;
    const quiet = (stats: ReceiverStats): boolean => stats.last !== null && now() - stats.last > quietMs;
    // the receiver answers once `count` have arrived (no polling during the measured drain); a wait
    // is cut every quarter second to see a quiet drain or the budget's end
    for (;;) {
      const stats = await this.get<ReceiverStats>(`/__wait/${count}/${Math.max(0, Math.ceil(Math.min(DRAIN_WAIT_MS, deadline - now())))}`);
      if (stats.count >= count || quiet(stats) || now() >= deadline) return { stats, complete: stats.count >= count };
    }
  }

  stop(): void {
    this.helper.stop();
  }

  private async get<T>(path: string): Promise<T> {
    return (await (await fetch(`${this.helper.url}${path}`)).json()) as T;
  }
}

/**
 * Arrivals/s from arrival `lead` (0: the first) to the last since the reset: a lead-in is left out
 * where the processes only regain their pace after the benchmark's own control calls.
 */
export async function rateAfter(receiver: BenchReceiver, stats: ReceiverStats, lead: number): Promise<number> {
  if (lead === 0) return arrivalRate(stats);
  const { at } = await receiver.arrivals();
  const from = at[lead];
  const to = at.at(-1);
  return from === undefined || to === undefined || to === from ? NaN : (at.length - 1 - lead) / ((to - from) / 1000);
}

/** Deliveries per second between the first and the last arrival. */
export function arrivalRate(stats: ReceiverStats): number {
  if (stats.first === null || stats.last === null || stats.count < 2) return NaN;
  return (stats.count - 1) / ((stats.last - stats.first) / 1000);
}
