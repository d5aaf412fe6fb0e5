import { api, ApiError, session, SIGNED_OUT } from './api.js';
import type { Tenant } from './api-types.js';
import { fill, h, toast } from './dom.js';
import { messagesPage } from './pages/messages.js';
import { type Page, routeOf } from './pages/page.js';
import { endpointsPage } from './pages/portal-endpoints.js';
import { receiverPageFor } from './pages/receivers.js';

/**
 * The consumer portal: what a tenant's own people see through a link from POST
 * /v1/tenants/:id/portal. The link's fragment (`#token=…&tenant=…`: never sent to a server) gives a
 * short-lived `tenant:<id>` token; it is kept in this tab's session and taken out of the address bar.
 * Every call goes to the same /v1 API with that token, which reaches nothing of another tenant.
 */

const TENANT_KEY = 'lockstep.portal-tenant';
const view = document.getElementById('view') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const title = document.getElementById('tenant-name') as HTMLElement;
let leavePage: (() => void) | void;

const ROUTES: Record<string, Page> = { receivers: endpointsPage, receiver: receiverPageFor('endpoint'), messages: messagesPage };

function takeLinkToken(): void {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = fragment.get('token');
  if (!token) return;
  session.signIn(token);
  sessionStorage.setItem(TENANT_KEY, fragment.get('tenant') ?? '');
  // the token leaves the address bar (and the history), so a shared screen or a copied URL does not carry it
  window.history.replaceState(null, '', `${window.location.pathname}#/receivers`);
}

function route(): void {
  leavePage?.();
  leavePage = undefined;
  if (!session.token()) return showExpired();
  nav.hidden = false;
  const { name, param } = routeOf(window.location.hash);
  const key = name === 'receivers' && param ? 'receiver' : name && ROUTES[name] ? name : 'receivers';
  for (const link of nav.querySelectorAll('a[data-route]'))
    link.classList.toggle('active', link.getAttribute('data-route') === (key === 'receiver' ? 'receivers' : key));
  leavePage = (ROUTES[key] as Page)(view, param);
}

function showExpired(): void {
  leavePage?.();
  leavePage = undefined;
  nav.hidden = true;
  fill(
    view,
    h(
      'section',
      { class: 'sign-in expired' },
      h('h1', {}, 'This link has expired'),
      h('p', {}, 'Portal links work for a limited time. Ask the company that sent it to you for a new link.'),
    ),
  );
}

async function start(): Promise<void> {
  takeLinkToken();
  const tenantId = sessionStorage.getItem(TENANT_KEY);
  if (!session.token() || !tenantId) return showExpired();
  try {
    const tenant = await api<Tenant>('GET', `/v1/tenants/${encodeURIComponent(tenantId)}`);
    title.textContent = tenant.name;
    document.title = `Webhooks · ${tenant.name}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // SIGNED_OUT shows the expired page
    toast(`Could not reach the API: ${(error as Error).message}`, 'error');
  }
  window.addEventListener('hashchange', route);
  route();
}

window.addEventListener(SIGNED_OUT, showExpired);
void start();
