import { api } from '../api.js';
import type { Page as ApiPage, PortalLink, Tenant } from '../api-types.js';
import { fill, h, table, toast } from '../dom.js';
import { ago } from '../format.js';
import { heading, type Page, poll, statusLine } from './page.js';

const REFRESH_MS = 5000;

/** The admin's tenants: create one, hand one a portal link, delete one (with its receivers when asked). */
export const tenantsPage: Page = (view) => {
  const status = statusLine();
  const list = h('section', {});
  const link = h('section', { class: 'portal-link' });
  const id = h('input', { type: 'text', name: 'tenant-id', required: true, placeholder: 'acme', pattern: '[A-Za-z0-9._\\-]{1,64}', 'aria-label': 'tenant id' });
  const name = h('input', { type: 'text', name: 'tenant-name', placeholder: 'Acme Ltd', 'aria-label': 'tenant name' });
  const create = h(
    'form',
    {
      class: 'receiver-form',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const body = { id: id.value.trim(), ...(name.value.trim() ? { name: name.value.trim() } : {}) };
        void api<Tenant>('POST', '/v1/tenants', body).then(
          (tenant) => {
            toast(`Created tenant ${tenant.id}.`);
            id.value = '';
            name.value = '';
            void refresh();
          },
          (error: unknown) => toast(`Could not create: ${(error as Error).message}`, 'error'),
        );
      },
    },
    id,
    name,
    h('button', { type: 'submit' }, 'Create tenant'),
  );
  const refresh = async (): Promise<void> => {
    const page = await api<ApiPage<Tenant>>('GET', '/v1/tenants?limit=500');
    fill(
      list,
      table(
        ['tenant', 'name', 'metadata', 'created', ''],
        page.data.map((tenant) => [
          h('a', { href: `#/receivers?tenant=${encodeURIComponent(tenant.id)}`, class: 'mono' }, tenant.id),
          tenant.name,
          h(
            'span',
            { class: 'mono' },
            Object.entries(tenant.metadata)
              .map(([key, value]) => `${key}: ${value}`)
              .join(', '),
          ),
          ago(tenant.createdAt),
          h(
            'span',
            {},
            h('button', { type: 'button', 'data-portal': tenant.id, onclick: () => void portalLink(tenant.id, link) }, 'Portal link'),
            ' ',
            h('button', { type: 'button', class: 'secondary', onclick: () => void remove(tenant.id, refresh) }, 'Delete'),
          ),
        ]),
        'No tenant yet: create one to group receivers by customer.',
      ),
    );
  };
  fill(
    view,
    heading('Tenants', status),
    h('p', { class: 'sub' }, "Your customers. A message with a tenantId goes only to that tenant's receivers; a portal link lets the customer manage them."),
    create,
    link,
    list,
  );
  return poll(REFRESH_MS, status, refresh);
};

async function portalLink(tenantId: string, into: HTMLElement): Promise<void> {
  try {
    const { url, expiresAt } = await api<PortalLink>('POST', `/v1/tenants/${encodeURIComponent(tenantId)}/portal`, { expiresInS: 3600 });
    const field = h('input', { type: 'text', readonly: true, value: url, size: 80, 'aria-label': 'portal link', name: 'portal-url' });
    fill(into, h('p', {}, `Portal link for ${tenantId}, valid until ${new Date(expiresAt).toLocaleString()} (hand it over as a secret):`), field);
    field.select();
  } catch (error) {
    toast(`Could not make a link: ${(error as Error).message}`, 'error');
  }
}

async function remove(tenantId: string, refresh: () => Promise<void>): Promise<void> {
  if (!window.confirm(`Delete tenant ${tenantId} and all its receivers (their pending deliveries are dropped)?`)) return;
  try {
    await api('DELETE', `/v1/tenants/${encodeURIComponent(tenantId)}?cascade=true`);
    toast(`Deleted ${tenantId}.`);
    await refresh();
  } catch (error) {
    toast(`Could not delete: ${(error as Error).message}`, 'error');
  }
}
