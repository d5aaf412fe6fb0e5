import { examples } from './examples.js';

/** Example values of tenants, tokens, portal links and message lists for the OpenAPI document (/docs). */

const AT = examples.at;
const TOKEN_ID = 'tok_01m81ty179n6nkc35tt72nyn5c';

export const tenantExamples = {
  newTenant: { id: 'acme', name: 'Acme Ltd', metadata: { customerNumber: '42' } },
  tenantPatch: { name: 'Acme Group', metadata: { customerNumber: '42', plan: 'enterprise' } },
  tenant: { id: 'acme', name: 'Acme Ltd', metadata: { customerNumber: '42' }, createdAt: AT, updatedAt: AT },
  portalRequest: { expiresInS: 3600 },
  portalLink: {
    url: 'https://lockstep.example.com/ui/portal#token=lst_c2hvd24tb25jZS1uZXZlci1zdG9yZWQtaW4tY2xlYXI&tenant=acme',
    expiresAt: '2026-11-22T15:35:31.519Z',
  },
  newToken: { name: 'billing publisher', scopes: ['publish'], expiresAt: '2030-01-01T00:00:00.000Z' },
  token: { id: TOKEN_ID, name: 'billing publisher', scopes: ['publish'], expiresAt: '2030-01-01T00:00:00.000Z', createdAt: AT },
  tokenId: TOKEN_ID,
  messageSummary: {
    id: examples.messageId,
    tenantId: 'acme',
    eventType: 'invoice.paid',
    createdAt: AT,
    receiverIds: [examples.receiverId],
    deliveries: [{ receiverId: examples.receiverId, status: 'delivered' }],
  },
} as const;

export const createdToken = { ...tenantExamples.token, token: 'lst_c2hvd24tb25jZS1uZXZlci1zdG9yZWQtaW4tY2xlYXI' } as const;
