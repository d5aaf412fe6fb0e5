import type { CreatedReceiver } from '../../src/shapes/receivers.js';
import type { CreatedToken } from '../../src/shapes/tokens.js';
import { ApiClient, waitFor } from './lockstep.js';
import type { TestReceiver } from './receiver.js';

/** One tenant's objects, as the scope and isolation tests reach for them. */
export interface TenantWorld {
  id: string;
  /** A client with a `tenant:<id>` token. */
  api: ApiClient;
  token: CreatedToken;
  /** A receiver that answers 200, and one that answers 500 (its deliveries end dead). */
  live: CreatedReceiver;
  failing: CreatedReceiver;
  /** A message delivered to `live`, and one dead at `failing`. */
  deliveredId: string;
  deadId: string;
}

export async function createToken(admin: ApiClient, scopes: string[], extra: Record<string, unknown> = {}): Promise<CreatedToken> {
  const { status, body } = await admin.request<CreatedToken>('POST', '/v1/tokens', { name: scopes.join(' '), scopes, ...extra });
  if (status !== 201) throw new Error(`createToken: ${status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * A tenant with a token, a live and a failing receiver, a delivered message and a dead letter.
 * Needs an emitter (role `all`) and a retry schedule of one short step.
 */
export async function tenantWorld(admin: ApiClient, receiver: TestReceiver, id: string): Promise<TenantWorld> {
  const created = await admin.request('POST', '/v1/tenants', { id, name: `${id} Ltd` });
  if (created.status !== 201) throw new Error(`tenant ${id}: ${created.status}`);
  const token = await createToken(admin, [`tenant:${id}`]);
  receiver.set(`${id}-failing`, { status: 500 });
  const live = await admin.createReceiver({ url: receiver.url(`${id}-live`), tenantId: id, eventTypes: ['world.live'] });
  const failing = await admin.createReceiver({ url: receiver.url(`${id}-failing`), tenantId: id, eventTypes: ['world.failing'] });
  const deliveredId = (await admin.post('world.live', { tenant: id }, { tenantId: id })).id;
  const deadId = (await admin.post('world.failing', { tenant: id }, { tenantId: id })).id;
  await waitFor(`a dead letter of ${id}`, async () => (await admin.message(deadId)).deliveries[0]?.status === 'dead', 15_000, 50);
  return { id, api: new ApiClient(admin.url, token.token), token, live, failing, deliveredId, deadId };
}
