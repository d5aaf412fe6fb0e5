import { withLinkedSignal } from '../lib/abort.js';
import type { ChannelNotices } from '../store/index.js';

/** How a turn whose queue empties may wait for new work: see `lingerForWork`. */
export interface Linger {
  ms: number;
  /** Only while fewer turns than this run in the process: the wait must not keep other receivers' turns from starting. */
  whileTurnsBelow: number;
  /** accept.lua's notices of work for a receiver whose queue was empty. */
  work: ChannelNotices;
}

/**
 * On an emptied queue the turn waits a moment for new work instead of giving the lock back at once:
 * an idle receiver's next message then costs no acquire and release (with etcd, round trips on its
 * latency p99). `workStamp` was taken before the claim that found the queue empty, so work accepted
 * since is heard even if its notice came first. Resolves whether to claim again.
 */
export async function lingerForWork(
  linger: Linger | undefined,
  receiverId: string,
  { workStamp, turnsRunning, msLeft }: { workStamp: number; turnsRunning: number; msLeft: number },
  signals: AbortSignal[],
): Promise<boolean> {
  if (!linger?.work.listening || turnsRunning >= linger.whileTurnsBelow) return false;
  const ms = Math.min(linger.ms, msLeft);
  if (ms <= 0) return false;
  return linger.work.since(receiverId, workStamp) || (await withLinkedSignal(signals, (signal) => linger.work.wait(receiverId, ms, signal)));
}
