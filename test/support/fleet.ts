import { ApiClient, LockstepProcess } from './lockstep.js';
import { TestReceiver } from './receiver.js';
import { RedisServer } from './redis.js';

/**
 * One API process and N emitter processes on a real Redis, with a recording receiver: the shape
 * every multi-process test needs.
 */
export class Fleet {
  private constructor(
    readonly redis: RedisServer,
    readonly receiver: TestReceiver,
    readonly api: LockstepProcess,
    readonly emitters: LockstepProcess[],
    readonly client: ApiClient,
    private readonly env: Record<string, string>,
  ) {}

  static async start(emitterCount: number, env: Record<string, string> = {}): Promise<Fleet> {
    const redis = await RedisServer.start();
    const receiver = await TestReceiver.start();
    const common = { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_LOCK_TTL_MS: '2000', LOCKSTEP_THROTTLED_MIN_MS: '0', ...env };
    const api = await LockstepProcess.start('api', common);
    const emitters = await Promise.all(Array.from({ length: emitterCount }, (_, i) => LockstepProcess.start('emitter', { ...common, LOCKSTEP_EMITTER_ID: `emitter-${i + 1}` })));
    return new Fleet(redis, receiver, api, emitters, new ApiClient(api.url as string), common);
  }

  async addEmitter(id: string): Promise<LockstepProcess> {
    const emitter = await LockstepProcess.start('emitter', { ...this.env, LOCKSTEP_EMITTER_ID: id });
    this.emitters.push(emitter);
    return emitter;
  }

  /** The emitter process named `emitterId`. */
  emitter(emitterId: string): LockstepProcess {
    const found = this.emitters.find((e) => e.env.LOCKSTEP_EMITTER_ID === emitterId);
    if (!found) throw new Error(`no emitter ${emitterId}`);
    return found;
  }

  async holderOf(receiverId: string): Promise<{ emitterId: string; fence: number } | undefined> {
    const { body } = await this.client.request<{ data: { receiverId: string; emitterId: string; fence: number }[] }>('GET', '/v1/locks');
    return body.data.find((holder) => holder.receiverId === receiverId);
  }

  async stop(): Promise<void> {
    for (const process of [...this.emitters, this.api]) {
      process.resume();
      await process.stop();
    }
    await this.receiver.close();
    await this.redis.destroy();
  }
}
