import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { newId } from '../../src/ids.js';
import type { ErrorBody } from '../../src/shapes/common.js';
import type { PublicReceiver } from '../../src/shapes/receivers.js';
import { quickRetries, useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';
import { tenantWorld, type TenantWorld } from '../support/tenants.js';

type Kind = 'rcv' | 'msg' | 'tenant';
/** A request template: `id` is the foreign (or control) id put where the template says. */
type Template = { kind: Kind; make: (id: string, own: TenantWorld) => { method: string; path: string; body?: unknown } };

const TEMPLATES: Template[] = [
  { kind: 'rcv', make: (id) => ({ method: 'GET', path: `/v1/receivers/${id}` }) },
  { kind: 'rcv', make: (id) => ({ method: 'PATCH', path: `/v1/receivers/${id}`, body: { description: 'taken over', enabled: false } }) },
  { kind: 'rcv', make: (id) => ({ method: 'DELETE', path: `/v1/receivers/${id}` }) },
  { kind: 'rcv', make: (id) => ({ method: 'GET', path: `/v1/receivers/${id}/secret` }) },
  { kind: 'rcv', make: (id) => ({ method: 'POST', path: `/v1/receivers/${id}/secret/rotate`, body: {} }) },
  { kind: 'rcv', make: (id) => ({ method: 'GET', path: `/v1/receivers/${id}/dead-letters` }) },
  { kind: 'rcv', make: (id) => ({ method: 'GET', path: `/v1/receivers/${id}/dead-letters?limit=1` }) },
  { kind: 'rcv', make: (id) => ({ method: 'POST', path: `/v1/receivers/${id}/replay`, body: { status: 'dead' } }) },
  { kind: 'rcv', make: (id) => ({ method: 'POST', path: `/v1/receivers/${id}/test` }) },
  { kind: 'rcv', make: (id, own) => ({ method: 'POST', path: `/v1/messages/${own.deliveredId}/resend`, body: { receiverIds: [id] } }) },
  { kind: 'rcv', make: (id) => ({ method: 'GET', path: `/v1/messages?receiverId=${id}` }) },
  { kind: 'rcv', make: (id) => ({ method: 'GET', path: `/v1/messages?receiverId=${id}&status=dead` }) },
  { kind: 'msg', make: (id) => ({ method: 'GET', path: `/v1/messages/${id}` }) },
  { kind: 'msg', make: (id) => ({ method: 'POST', path: `/v1/messages/${id}/resend`, body: {} }) },
  { kind: 'msg', make: (id, own) => ({ method: 'POST', path: `/v1/messages/${id}/resend`, body: { receiverIds: [own.live.id] } }) },
  { kind: 'msg', make: (id, own) => ({ method: 'POST', path: `/v1/receivers/${own.failing.id}/replay`, body: { messageIds: [id] } }) },
  { kind: 'tenant', make: (id) => ({ method: 'GET', path: `/v1/tenants/${id}` }) },
  { kind: 'tenant', make: (id) => ({ method: 'GET', path: `/v1/messages?tenantId=${id}` }) },
  { kind: 'tenant', make: (id) => ({ method: 'GET', path: `/v1/receivers?tenantId=${id}` }) },
  { kind: 'tenant', make: (id) => ({ method: 'POST', path: '/v1/receivers', body: { url: 'http://127.0.0.1:9/x', tenantId: id } }) },
  { kind: 'tenant', make: (id) => ({ method: 'GET', path: `/v1/messages?tenantId=${id}&eventType=world.live` }) },
];

/** How an id is written into the request: as is, percent-encoded, in another case, with a slash after. */
const FORMS: ((id: string) => string)[] = [
  (id) => id,
  (id) => id.replace('_', '%5F'),
  (id) => encodeURIComponent(id),
  (id) => id.toUpperCase(),
  (id) => `${id}/`,
];

describe("tenant isolation: tenant A's token never reaches tenant B's objects", () => {
  const context = useLockstep('all', quickRetries());
  let admin: ApiClient;
  let receiver: TestReceiver;
  let a: TenantWorld;
  let b: TenantWorld;
  let secretOfB: string;
  before(async () => {
    ({ api: admin, receiver } = context());
    a = await tenantWorld(admin, receiver, 'fuzz-a');
    b = await tenantWorld(admin, receiver, 'fuzz-b');
    secretOfB = b.live.secret;
  });

  const foreign = (kind: Kind, pick: number): string => {
    if (kind === 'tenant') return b.id;
    if (kind === 'rcv') return [b.live.id, b.failing.id][pick % 2] as string;
    return [b.deliveredId, b.deadId][pick % 2] as string;
  };
  /** An id of the same kind that was never anyone's. */
  const control = (kind: Kind): string => (kind === 'tenant' ? `never-${Math.random().toString(36).slice(2)}` : newId(kind));

  test("every route and id form answers for B's objects exactly as for ids that never existed", async () => {
    const before = receiver.requests.length;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TEMPLATES), fc.constantFrom(...FORMS), fc.nat(), async (template, form, pick) => {
        const target = foreign(template.kind, pick);
        const unknown = control(template.kind);
        const probe = template.make(form(target), a);
        const check = template.make(form(unknown), a);
        const [got, expected] = [
          await a.api.request<ErrorBody>(probe.method, probe.path, probe.body),
          await a.api.request<ErrorBody>(check.method, check.path, check.body),
        ];
        const text = (body: unknown, id: string): string =>
          JSON.stringify(body ?? null)
            .replaceAll(id, '<id>')
            .replaceAll(id.toUpperCase(), '<id>');
        assert.equal(got.status, expected.status, `${probe.method} ${probe.path}: ${got.status} ${JSON.stringify(got.body)} vs ${expected.status}`);
        assert.equal(text(got.body, target), text(expected.body, unknown), `${probe.method} ${probe.path} answers as for an unknown id`);
        assert.ok(!JSON.stringify(got.body ?? '').includes(secretOfB), 'no secret of B');
        // A list filtered by a receiver A cannot see is a list of nothing, as for a receiver that never was.
        const emptyList = got.status === 200 && probe.path.startsWith('/v1/messages?') && (got.body as { data?: unknown[] }).data?.length === 0;
        if (probe.path.includes(target))
          assert.ok([400, 404].includes(got.status) || emptyList || (got.status === 202 && /replay/.test(probe.path)), `${probe.path}: ${got.status}`);
      }),
      { numRuns: 300, seed: 1617 },
    );
    // nothing of B changed, nothing more was sent to B's receivers
    const live = (await admin.request<PublicReceiver>('GET', `/v1/receivers/${b.live.id}`)).body;
    assert.deepEqual([live.enabled, live.description, live.health.deadLetters], [true, '', 0]);
    assert.equal((await admin.request<{ secret: string }>('GET', `/v1/receivers/${b.live.id}/secret`)).body.secret, secretOfB);
    const failing = (await admin.request<PublicReceiver>('GET', `/v1/receivers/${b.failing.id}`)).body;
    assert.equal(failing.health.deadLetters, 1, "B's dead letter is still dead");
    assert.deepEqual(
      (await admin.message(b.deliveredId)).deliveries.map((d) => d.status),
      ['delivered'],
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      receiver.requests.slice(before).filter((r) => r.receiver.startsWith('fuzz-b')),
      [],
      'no request reached B',
    );
  });

  test("A's lists never show B's receivers or messages", async () => {
    const receivers = await a.api.request<{ data: PublicReceiver[] }>('GET', '/v1/receivers?limit=500');
    const messages = await a.api.request<{ data: { id: string; tenantId?: string }[] }>('GET', '/v1/messages?limit=100');
    const shown = JSON.stringify([receivers.body, messages.body]);
    for (const id of [b.live.id, b.failing.id, b.deliveredId, b.deadId, b.id]) assert.ok(!shown.includes(id), `${id} is not listed to A`);
    assert.ok(receivers.body.data.length >= 2 && messages.body.data.length >= 2);
    assert.ok(messages.body.data.every((m) => m.tenantId === 'fuzz-a'));
  });
});
