import type { ApiClient } from '../support/lockstep.js';

/**
 * Who held which fence, from `GET /v1/locks` read every 200 ms during the run. The API's attempt
 * records say who sent an attempt, but an attempt is never recorded when its sender is killed
 * right after, or when the store refuses a woken stale holder's record: then this tells an
 * overlap's sender all the same (a hanging receiver's holder keeps its fence for a second or more).
 */
export class HolderWatch {
  private readonly byFence = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(private readonly client: ApiClient) {}

  start(): void {
    this.timer = setInterval(() => void this.read(), 200);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The emitter seen holding `receiverId` under `fence`, if it was seen. */
  holder(receiverId: string, fence: number): string | undefined {
    return this.byFence.get(`${receiverId}:${fence}`);
  }

  private async read(): Promise<void> {
    if (this.reading) return; // Redis down: one read at a time is plenty
    this.reading = true;
    try {
      const { status, body } = await this.client.request<{ data: { receiverId: string; emitterId: string; fence: number }[] }>('GET', '/v1/locks');
      if (status === 200) for (const { receiverId, emitterId, fence } of body.data) this.byFence.set(`${receiverId}:${fence}`, emitterId);
    } catch {
      // the API answers 503 while Redis restarts: the next read will do
    } finally {
      this.reading = false;
    }
  }
}
