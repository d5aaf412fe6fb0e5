import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody } from '../../src/shapes/common.js';
import type { Token } from '../../src/shapes/tokens.js';
import { quickRetries, useLockstep } from '../support/in-process.js';
import { ApiClient, TEST_TOKEN } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';
import { createToken, tenantWorld, type TenantWorld } from '../support/tenants.js';

/** What a scope gets on a route: through to the route (`ok`: 2xx or a 4xx of the route's own, never 401/403/404), or this status. */
type Outcome = 'ok' | 403 | 404;
type Scope = 'publish' | 'own' | 'other';
interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/**
 * The matrix, written out by hand (not read from src/api/access.ts): for each /v1 route, what a
 * `publish` token, tenant A's token on A's objects (`own`) and tenant B's token on A's objects
 * (`other`) get. Admin tokens (LOCKSTEP_API_TOKEN and a stored `admin` one) get `ok` everywhere.
 * Each call is made from fresh objects where the route destroys what it names.
 */
const MATRIX: [route: string, call: (w: World) => Promise<Call> | Call, expected: Record<Scope, Outcome>][] = [
  [
    'POST /v1/messages',
    (w) => ({ method: 'POST', path: '/v1/messages', body: { eventType: 'm.x', payload: {}, tenantId: w.a.id } }),
    { publish: 'ok', own: 403, other: 403 },
  ],
  [
    'POST /v1/messages/batch',
    (w) => ({ method: 'POST', path: '/v1/messages/batch', body: { messages: [{ eventType: 'm.x', payload: {}, tenantId: w.a.id }] } }),
    { publish: 'ok', own: 403, other: 403 },
  ],
  ['GET /v1/messages', () => ({ method: 'GET', path: '/v1/messages' }), { publish: 403, own: 'ok', other: 'ok' }],
  ['GET /v1/messages?tenantId', (w) => ({ method: 'GET', path: `/v1/messages?tenantId=${w.a.id}` }), { publish: 403, own: 'ok', other: 404 }],
  ['GET /v1/messages/{id}', (w) => ({ method: 'GET', path: `/v1/messages/${w.a.deliveredId}` }), { publish: 403, own: 'ok', other: 404 }],
  [
    'POST /v1/messages/{id}/resend',
    (w) => ({ method: 'POST', path: `/v1/messages/${w.a.deliveredId}/resend`, body: {} }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  [
    'DELETE /v1/messages/{id}/payload',
    async (w) => ({ method: 'DELETE', path: `/v1/messages/${(await w.admin.post('m.x', {}, { tenantId: w.a.id })).id}/payload` }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  ['POST /v1/receivers', (w) => ({ method: 'POST', path: '/v1/receivers', body: { url: w.url } }), { publish: 403, own: 'ok', other: 'ok' }],
  [
    'POST /v1/receivers tenantId',
    (w) => ({ method: 'POST', path: '/v1/receivers', body: { url: w.url, tenantId: w.a.id } }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  ['GET /v1/receivers', () => ({ method: 'GET', path: '/v1/receivers' }), { publish: 403, own: 'ok', other: 'ok' }],
  ['GET /v1/receivers?tenantId', (w) => ({ method: 'GET', path: `/v1/receivers?tenantId=${w.a.id}` }), { publish: 403, own: 'ok', other: 404 }],
  ['GET /v1/receivers/{id}', (w) => ({ method: 'GET', path: `/v1/receivers/${w.a.live.id}` }), { publish: 403, own: 'ok', other: 404 }],
  [
    'PATCH /v1/receivers/{id}',
    (w) => ({ method: 'PATCH', path: `/v1/receivers/${w.a.live.id}`, body: { description: 'patched' } }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  [
    'DELETE /v1/receivers/{id}',
    async (w) => ({ method: 'DELETE', path: `/v1/receivers/${(await w.admin.createReceiver({ url: w.url, tenantId: w.a.id })).id}` }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  ['GET /v1/receivers/{id}/secret', (w) => ({ method: 'GET', path: `/v1/receivers/${w.a.live.id}/secret` }), { publish: 403, own: 'ok', other: 404 }],
  [
    'POST /v1/receivers/{id}/secret/rotate',
    (w) => ({ method: 'POST', path: `/v1/receivers/${w.rotated.id}/secret/rotate`, body: {} }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  [
    'GET /v1/receivers/{id}/dead-letters',
    (w) => ({ method: 'GET', path: `/v1/receivers/${w.a.failing.id}/dead-letters` }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  [
    'POST /v1/receivers/{id}/replay',
    (w) => ({ method: 'POST', path: `/v1/receivers/${w.a.failing.id}/replay`, body: { messageIds: [w.a.deliveredId] } }),
    { publish: 403, own: 'ok', other: 404 },
  ],
  ['POST /v1/receivers/{id}/test', (w) => ({ method: 'POST', path: `/v1/receivers/${w.a.live.id}/test` }), { publish: 403, own: 'ok', other: 404 }],
  [
    'POST /v1/tenants',
    () => ({ method: 'POST', path: '/v1/tenants', body: { id: `t${Math.random().toString(36).slice(2)}` } }),
    { publish: 403, own: 403, other: 403 },
  ],
  ['GET /v1/tenants', () => ({ method: 'GET', path: '/v1/tenants' }), { publish: 403, own: 403, other: 403 }],
  ['GET /v1/tenants/{id}', (w) => ({ method: 'GET', path: `/v1/tenants/${w.a.id}` }), { publish: 403, own: 'ok', other: 404 }],
  ['PATCH /v1/tenants/{id}', (w) => ({ method: 'PATCH', path: `/v1/tenants/${w.a.id}`, body: { name: 'renamed' } }), { publish: 403, own: 403, other: 403 }],
  ['DELETE /v1/tenants/{id}', async (w) => ({ method: 'DELETE', path: `/v1/tenants/${await w.freshTenant()}` }), { publish: 403, own: 403, other: 403 }],
  [
    'POST /v1/tenants/{id}/portal',
    (w) => ({ method: 'POST', path: `/v1/tenants/${w.a.id}/portal`, body: { expiresInS: 600 } }),
    { publish: 403, own: 403, other: 403 },
  ],
  [
    'POST /v1/tokens',
    () => ({ method: 'POST', path: '/v1/tokens', body: { name: 'made in the matrix', scopes: ['publish'] } }),
    { publish: 403, own: 403, other: 403 },
  ],
  ['GET /v1/tokens', () => ({ method: 'GET', path: '/v1/tokens' }), { publish: 403, own: 403, other: 403 }],
  [
    'DELETE /v1/tokens/{id}',
    async (w) => ({ method: 'DELETE', path: `/v1/tokens/${(await createToken(w.admin, ['publish'])).id}` }),
    { publish: 403, own: 403, other: 403 },
  ],
  [
    'POST /v1/event-types',
    () => ({ method: 'POST', path: '/v1/event-types', body: { name: `matrix.t${Math.random().toString(36).slice(2, 8)}` } }),
    { publish: 403, own: 403, other: 403 },
  ],
  ['GET /v1/event-types', () => ({ method: 'GET', path: '/v1/event-types' }), { publish: 403, own: 403, other: 403 }],
  ['GET /v1/event-types/{name}', () => ({ method: 'GET', path: '/v1/event-types/matrix.kept' }), { publish: 403, own: 403, other: 403 }],
  [
    'PATCH /v1/event-types/{name}',
    () => ({ method: 'PATCH', path: '/v1/event-types/matrix.kept', body: { description: 'patched' } }),
    { publish: 403, own: 403, other: 403 },
  ],
  [
    'DELETE /v1/event-types/{name}',
    async (w) => {
      const name = `matrix.d${Math.random().toString(36).slice(2, 8)}`;
      await w.admin.request('POST', '/v1/event-types', { name });
      return { method: 'DELETE', path: `/v1/event-types/${name}` };
    },
    { publish: 403, own: 403, other: 403 },
  ],
  ['GET /v1/locks', () => ({ method: 'GET', path: '/v1/locks' }), { publish: 403, own: 403, other: 403 }],
  ['GET /v1/stats', () => ({ method: 'GET', path: '/v1/stats' }), { publish: 403, own: 403, other: 403 }],
];

interface World {
  admin: ApiClient;
  /** A receiver of A whose secret the matrix rotates (the others keep theirs). */
  rotated: { id: string };
  a: TenantWorld;
  b: TenantWorld;
  url: string;
  freshTenant(): Promise<string>;
}

describe('scoped tokens: every scope against every route', () => {
  const context = useLockstep('all', quickRetries());
  let world: World;
  let clients: Record<'adminEnv' | 'adminToken' | 'publish' | 'own' | 'other', ApiClient>;
  let receiver: TestReceiver;
  before(async () => {
    const { api: admin, receiver: r } = context();
    receiver = r;
    const [a, b] = [await tenantWorld(admin, receiver, 'scope-a'), await tenantWorld(admin, receiver, 'scope-b')];
    let n = 0;
    assert.equal((await admin.request('POST', '/v1/event-types', { name: 'matrix.kept' })).status, 201);
    const rotated = await admin.createReceiver({ url: receiver.url('rotated'), tenantId: a.id });
    world = {
      admin,
      a,
      b,
      rotated,
      url: receiver.url('matrix'),
      freshTenant: async () => (await admin.request<{ id: string }>('POST', '/v1/tenants', { id: `fresh-${n++}` })).body.id,
    };
    clients = {
      adminEnv: new ApiClient(admin.url, TEST_TOKEN),
      adminToken: new ApiClient(admin.url, (await createToken(admin, ['admin'])).token),
      publish: new ApiClient(admin.url, (await createToken(admin, ['publish'])).token),
      own: a.api,
      other: b.api,
    };
  });

  test('the matrix covers every documented /v1 route', async () => {
    const doc = (await (await fetch(`${world.admin.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      path.startsWith('/v1/') ? Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`) : [],
    );
    const covered = new Set(MATRIX.map(([route]) => route.split(/[ ?]/).slice(0, 2).join(' ')));
    assert.deepEqual(documented.filter((route) => !covered.has(route)).sort(), [], 'routes missing from the matrix');
  });

  test('each scope gets what the matrix says on each route', async () => {
    const wrong: string[] = [];
    for (const [route, call, expected] of MATRIX) {
      const cells: [keyof typeof clients, Outcome][] = [
        ['adminEnv', 'ok'],
        ['adminToken', 'ok'],
        ['publish', expected.publish],
        ['own', expected.own],
        ['other', expected.other],
      ];
      for (const [scope, outcome] of cells) {
        const { method, path, body } = await call(world);
        const answer = await clients[scope].request<ErrorBody>(method, path, body);
        const got = [401, 403, 404].includes(answer.status) || answer.status >= 500 ? answer.status : 'ok';
        if (got !== outcome) wrong.push(`${route} as ${scope}: expected ${outcome}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('no token, a wrong one, a revoked one and an expired one get 401 on every route', async () => {
    const revoked = await createToken(world.admin, ['admin']);
    assert.equal((await world.admin.request('DELETE', `/v1/tokens/${revoked.id}`)).status, 204);
    const expiring = await createToken(world.admin, ['admin'], { expiresAt: new Date(Date.now() + 1500).toISOString() });
    assert.equal((await new ApiClient(world.admin.url, expiring.token).request('GET', '/v1/stats')).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    for (const token of ['', 'lst_wrong', revoked.token, expiring.token]) {
      for (const [route, call] of MATRIX) {
        const { method, path, body } = await call(world);
        const answer = await new ApiClient(world.admin.url, token).request<ErrorBody>(method, path, body);
        assert.equal(answer.status, 401, `${route} with "${token.slice(0, 8)}…"`);
        assert.match(answer.body.message, /bearer token/);
      }
    }
  });

  test('tokens: shown once, listed without the token, scopes checked; a tenant token creates receivers of its tenant', async () => {
    const created = await createToken(world.admin, ['publish', 'tenant:scope-a'], { expiresAt: '2099-01-01T00:00:00Z' });
    assert.match(created.token, /^lst_[A-Za-z0-9_-]{43}$/);
    assert.match(created.id, /^tok_[0-9a-z]{26}$/);
    const listed = await world.admin.request<{ data: Token[] }>('GET', '/v1/tokens?limit=500');
    const shown = listed.body.data.find((token) => token.id === created.id);
    assert.deepEqual(shown, {
      id: created.id,
      name: created.name,
      scopes: created.scopes,
      expiresAt: '2099-01-01T00:00:00.000Z',
      createdAt: created.createdAt,
    });
    assert.ok(!JSON.stringify(listed.body).includes(created.token), 'the list never shows a token');
    for (const [body, status, field] of [
      [{ name: 'x', scopes: ['root'] }, 400, 'scopes[0]'],
      [{ name: 'x', scopes: [] }, 400, 'scopes'],
      [{ name: 'x', scopes: ['tenant:nobody'] }, 422, 'scopes'],
      [{ name: 'x', scopes: ['tenant:scope-a', 'tenant:scope-b'] }, 422, 'scopes'],
      [{ name: 'x', scopes: ['publish'], expiresAt: '2001-01-01T00:00:00Z' }, 422, 'expiresAt'],
      [{ name: 'x', scopes: ['publish'], expiresAt: 'tomorrow' }, 400, 'expiresAt'],
    ] as const) {
      const answer = await world.admin.request<ErrorBody>('POST', '/v1/tokens', body);
      assert.deepEqual([answer.status, answer.body.field], [status, field], JSON.stringify(answer.body));
    }
    const made = await world.a.api.request<{ tenantId?: string }>('POST', '/v1/receivers', { url: receiver.url('made-by-a') });
    assert.deepEqual([made.status, made.body.tenantId], [201, 'scope-a']);
    const mine = await world.a.api.request<{ data: { tenantId?: string }[] }>('GET', '/v1/receivers?limit=500');
    assert.ok(mine.body.data.length >= 3 && mine.body.data.every((r) => r.tenantId === 'scope-a'), 'a tenant lists only its own receivers');
    const forbidden = await world.a.api.request<ErrorBody>('GET', '/v1/stats');
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.message, "this token's scopes do not allow GET /v1/stats: it needs an admin token");
    const publishing = await world.a.api.request<ErrorBody>('POST', '/v1/messages', { eventType: 'a.b', payload: {} });
    assert.equal(publishing.body.message, "this token's scopes do not allow POST /v1/messages: it needs a token with scope admin or publish");
  });
});
