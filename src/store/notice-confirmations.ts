import { randomUUID } from 'node:crypto';
import type { RedisTarget } from '../redis.js';
import { ChannelNotices } from './notices.js';

/** How long a config change's answer waits for the emitters that heard its notice to take it in. */
export const CONFIRM_MS = 1000;

/**
 * A receiver's config change (a rotation, a PATCH) is answered once every emitter that heard its
 * notice has taken it in, so every request that starts after the answer uses the new config: the
 * notice alone leaves Redis before the answer, but an emitter busy with a response may read it
 * after the caller read the answer. replace-config.lua publishes `<receiverId> <token>` and says
 * how many subscribers got it; each emitter, once it has marked the receiver's windows stale,
 * publishes the token back on `<prefix>:keys-heard` (Store.watchKeyChanges). One that does not
 * within CONFIRM_MS (paused, starved) is counted, not waited for longer: the change is stored
 * either way. On a Redis Cluster a publish counts the subscribers of one node only: the wait
 * covers the emitters that node serves.
 */
export class NoticeConfirmations {
  private heard: ChannelNotices | undefined;

  constructor(
    private readonly target: RedisTarget,
    private readonly channel: string,
  ) {}

  /**
   * Runs `publish` with the notice to send for `receiverId`, then waits for as many confirmations
   * as `subscribers` of its result says got it. Resolves with the result and how many of those did
   * not confirm in time.
   */
  async around<R>(
    receiverId: string,
    publish: (notice: string) => Promise<R>,
    subscribers: (result: R) => number,
  ): Promise<{ result: R; unconfirmed: number }> {
    if (!this.heard) {
      this.heard = new ChannelNotices(this.target, this.channel, { stamped: false });
      await this.heard.whenListening(CONFIRM_MS);
    }
    if (!this.heard.listening) {
      // confirmations cannot be heard: the emitters are not asked for any
      const result = await publish(receiverId);
      return { result, unconfirmed: subscribers(result) };
    }
    const token = randomUUID();
    const confirmations = this.heard.tally(token);
    const result = await publish(`${receiverId} ${token}`).catch(async (error: unknown) => {
      await confirmations.until(0, 0); // stops counting
      throw error;
    });
    const expected = subscribers(result);
    const confirmed = await confirmations.until(expected, CONFIRM_MS);
    return { result, unconfirmed: Math.max(0, expected - confirmed) };
  }

  close(): void {
    this.heard?.close();
    this.heard = undefined;
  }
}
