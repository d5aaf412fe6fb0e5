import type { ApiClient } from '../test/support/lockstep.js';

export interface NewMessage {
  eventType: string;
  payload: unknown;
  receiverIds?: string[];
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Creates `count` receivers; `fields(i)` describes receiver i. Returns their ids in order. */
export async function createReceivers(client: ApiClient, count: number, fields: (i: number) => Record<string, unknown>): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  await inParallel(count, 16, async (i) => {
    ids[i] = (await client.createReceiver(fields(i))).id;
  });
  return ids;
}

/** The fan-out backlog's size for `sizes`: receivers, messages to all of them, deliveries in all. */
export function fanOutSize(sizes: { fanoutReceivers: number; fanoutDeliveries: number }): { receivers: number; messages: number; total: number } {
  const receivers = sizes.fanoutReceivers;
  const messages = Math.ceil(sizes.fanoutDeliveries / receivers);
  return { receivers, messages, total: messages * receivers };
}

/** Queues the fan-out backlog: `receivers` receivers (`fan-<i>` of `receiver`) and `messages` messages of `eventType` to all of them. */
export async function queueFanOut(
  client: ApiClient,
  receiver: { url(name: string): string },
  { receivers, messages }: { receivers: number; messages: number },
  eventType: string,
): Promise<void> {
  await createReceivers(client, receivers, (i) => ({ url: receiver.url(`fan-${i}`), eventTypes: [eventType] }));
  await enqueue(
    client,
    Array.from({ length: messages }, (_, n) => ({ eventType, payload: { n } })),
  );
}

/**
 * Queues `messages` through the API, in batches of 500 (POST /v1/messages/batch), or one by one
 * where batch intake does not exist.
 */
export async function enqueue(client: ApiClient, messages: NewMessage[]): Promise<void> {
  const BATCH = 500;
  for (let from = 0; from < messages.length; from += BATCH) {
    const { status, body } = await client.request('POST', '/v1/messages/batch', { messages: messages.slice(from, from + BATCH) });
    if (status === 404) return enqueueOneByOne(client, messages.slice(from));
    if (status !== 202) throw new Error(`batch intake answered ${status}: ${JSON.stringify(body)}`);
  }
}

async function enqueueOneByOne(client: ApiClient, messages: NewMessage[]): Promise<void> {
  await inParallel(messages.length, 16, async (i) => {
    const { eventType, payload, ...rest } = messages[i] as NewMessage;
    await client.post(eventType, payload, rest);
  });
}
