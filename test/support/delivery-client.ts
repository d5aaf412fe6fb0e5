import { after, before, beforeEach } from 'node:test';
import { AddressGuard } from '../../src/delivery/address-guard.js';
import { DeliveryClient, type DeliveryClientOptions, type DeliveryRequest } from '../../src/delivery/client.js';
import { TestReceiver } from './receiver.js';

export const guardOff = new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] });
export const guardOn = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: [] });
export const never: AbortSignal = new AbortController().signal;

export type Send = (fields?: Partial<DeliveryRequest>) => ReturnType<DeliveryClient['send']>;

/**
 * A delivery-client test file's receiver (started before its tests, answering an empty 200 unless
 * a test says otherwise) and `withClient`, which runs a test with a fresh client and closes it.
 */
export function useClientReceiver(): {
  receiver: () => TestReceiver;
  withClient: (options: Partial<DeliveryClientOptions>, use: (send: Send) => Promise<void>) => Promise<void>;
} {
  let receiver: TestReceiver | undefined;
  const current = (): TestReceiver => {
    if (!receiver) throw new Error('the receiver starts in before()');
    return receiver;
  };
  before(async () => (receiver = await TestReceiver.start()));
  after(() => receiver?.close());
  beforeEach(() => (current().answer = (response) => response.end()));
  async function withClient(options: Partial<DeliveryClientOptions>, use: (send: Send) => Promise<void>): Promise<void> {
    const client = new DeliveryClient({ guard: guardOff, ...options });
    try {
      await use((fields = {}) => client.send({ url: current().address(), headers: {}, body: '{}', timeoutMs: 5000, signal: never, ...fields }));
    } finally {
      await client.close();
    }
  }
  return { receiver: current, withClient };
}
