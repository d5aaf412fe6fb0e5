import type { Behaviour } from '../support/receiver.js';
import type { ApiClient } from '../support/lockstep.js';
import { Prng } from './prng.js';

/** One of the 20 receivers of a chaos run. Every one refuses (409) a fence lower than the highest it saw. */
export interface ChaosReceiver {
  name: string;
  behaviour: Behaviour;
  timeoutMs?: number;
}

/** The hanging receiver: its requests end only when the emitter aborts them (timeout or lock loss). */
export const HANG = 'hang';

export function chaosReceivers(): ChaosReceiver[] {
  const fence = { checkFence: true };
  return [
    ...Array.from({ length: 7 }, (_, i) => ({ name: `fast-${i + 1}`, behaviour: { ...fence } })),
    ...Array.from({ length: 5 }, (_, i) => ({ name: `slow-${i + 1}`, behaviour: { ...fence, delayMs: 100 + 50 * i } })),
    ...Array.from({ length: 6 }, (_, i) => ({ name: `failing-${i + 1}`, behaviour: { ...fence, failRate: 0.3, delayMs: i % 2 === 0 ? 0 : 30 } })),
    // a short timeout: each of its messages costs (retries + 1) × timeout before it is dead
    { name: HANG, behaviour: { ...fence, hang: true }, timeoutMs: 1000 },
    // 10 %: each 429 pauses the whole receiver ≥ 1 s; at 30 % it could not keep up with its share of the intake
    { name: 'throttled', behaviour: { ...fence, failRate: 0.1, failStatus: 429, headers: { 'retry-after': '1' } } },
  ];
}

export interface AcceptedMessage {
  /** Position in acceptance order (the producer is sequential: the next is sent once this one is accepted). */
  n: number;
  id: string;
  receiverIds: string[];
}

/** Every this many messages one also goes to the hanging receiver (few: each one ties it up for seconds). */
const HANG_EVERY = 500;
/** A message the API refused (503 while Redis restarts) is sent again, same idempotency key, for this long. */
const GIVE_UP_MS = 30_000;

/**
 * Continuous intake: one sequential producer at a steady rate, each message to 1–3 receivers drawn
 * from the seed. A refused or unanswered message is sent again with the same Idempotency-Key until
 * it is accepted, so acceptance order is the order of `accepted` even around Redis restarts.
 */
export class Intake {
  readonly accepted: AcceptedMessage[] = [];
  /** Messages given up on: perhaps accepted, perhaps not (a receiver may see their ids). */
  readonly unresolved: number[] = [];
  readonly answers = new Map<string, number>();
  /** No more messages to the hanging receiver after this (epoch ms): each costs it ~10 s to go dead, more than a short settle phase. */
  hangCutoff = Infinity;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly prng: Prng;

  constructor(
    private readonly client: ApiClient,
    private readonly receiverIds: Map<string, string>,
    seed: number,
    private readonly perSecond: number,
  ) {
    this.prng = new Prng(seed, 2);
  }

  start(): void {
    this.running = true;
    this.loop = this.produce();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async produce(): Promise<void> {
    const names = [...this.receiverIds.keys()].filter((name) => name !== HANG);
    const startedAt = Date.now();
    for (let n = 0; this.running; n++) {
      const chosen = new Set<string>();
      for (let k = this.prng.int(1, 3); k > 0; k--) chosen.add(this.prng.pick(names));
      if (n % HANG_EVERY === HANG_EVERY - 1 && Date.now() < this.hangCutoff) chosen.add(HANG);
      const ids = [...chosen].map((name) => this.receiverIds.get(name) as string);
      const id = await this.send(n, ids);
      if (id) this.accepted.push({ n, id, receiverIds: ids });
      else this.unresolved.push(n);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + ((n + 1) * 1000) / this.perSecond - Date.now())));
    }
  }

  private async send(n: number, receiverIds: string[]): Promise<string | undefined> {
    const giveUpAt = Date.now() + GIVE_UP_MS;
    const body = JSON.stringify({ eventType: 'chaos.event', payload: { n }, receiverIds });
    while (Date.now() < giveUpAt) {
      const answer = await fetch(`${this.client.url}/v1/messages`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(5000),
        headers: { authorization: `Bearer ${this.client.token}`, 'content-type': 'application/json', 'idempotency-key': `chaos-${n}` },
      }).then(
        async (response) => ({ status: String(response.status), body: response.status === 202 ? ((await response.json()) as { id: string }) : undefined }),
        (error: unknown) => ({ status: error instanceof Error ? error.name : 'error', body: undefined }),
      );
      this.answers.set(answer.status, (this.answers.get(answer.status) ?? 0) + 1);
      if (answer.body) return answer.body.id;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return undefined;
  }
}
