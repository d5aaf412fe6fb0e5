import type { Redis } from 'ioredis';

/** Calls per command name, from INFO commandstats (commands run inside Lua scripts included). */
export type CommandCounts = Map<string, number>;

export async function commandCounts(redis: Redis): Promise<CommandCounts> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((match) => [match[1] as string, Number(match[2])]));
}

/** What ran between two readings: calls per command, and in total. */
export class CommandDelta {
  readonly calls: CommandCounts = new Map();
  readonly total: number;

  constructor(before: CommandCounts, after: CommandCounts) {
    for (const [name, count] of after) {
      const delta = count - (before.get(name) ?? 0);
      if (delta > 0) this.calls.set(name, delta);
    }
    this.total = [...this.calls.values()].reduce((sum, n) => sum + n, 0);
  }

  /** The `top` commands as "name n.nn" per `per` (e.g. per delivery). */
  describe(per: number, top = 6): string {
    return [...this.calls.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, count]) => `${name} ${(count / per).toFixed(2)}`)
      .join(', ');
  }
}
