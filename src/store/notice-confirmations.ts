import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { RedisClient, RedisTarget } from '../redis.js';
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
 * either way. On a Redis Cluster a publish counts the subscribers of its own node only, so the
 * count is the sum of `PUBSUB NUMSUB` over every node instead, read after the publish.
 */
export class NoticeConfirmations {
  private heard: ChannelNotices | undefined;

  constructor(
    private readonly target: RedisTarget,
    private readonly channel: string,
    /** The store's connection: on a Redis Cluster, where the notices' subscribers are counted. */
    private readonly redis: RedisClient,
    /** The channel the notices go out on. */
    private readonly noticeChannel: string,
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
    const result = await publish(`${receiverId} ${token}`).catch((error: unknown) => {
      confirmations.stop();
      throw error;
    });
    const expected = this.redis instanceof Cluster ? await this.clusterSubscribers(this.redis) : subscribers(result);
    const confirmed = await confirmations.until(expected, CONFIRM_MS);
    return { result, unconfirmed: Math.max(0, expected - confirmed) };
  }

  /** Subscribers of the notices on every node of the cluster (each counts its own connections); 0 when unknown. */
  private async clusterSubscribers(cluster: Cluster): Promise<number> {
    const counts = await Promise.all(
      cluster.nodes('all').map((node) =>
        node.pubsub('NUMSUB', this.noticeChannel).then(
          (reply) => Number(reply[1] ?? 0),
          () => 0,
        ),
      ),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  close(): void {
    this.heard?.close();
    this.heard = undefined;
  }
}
