import { api, ApiError, session, SIGNED_OUT } from './api.js';
import { fill, h } from './dom.js';
import { deadLettersPage } from './pages/dead-letters.js';
import { eventTypesPage } from './pages/event-types.js';
import { locksPage } from './pages/locks.js';
import { messagesPage } from './pages/messages.js';
import { overviewPage } from './pages/overview.js';
import { type Page, routeOf } from './pages/page.js';
import { receiverPage, receiversPage } from './pages/receivers.js';
import { tenantsPage } from './pages/tenants.js';

/** `#/<route>/<param>` → page. */
const ROUTES: Record<string, Page> = {
  overview: overviewPage,
  receivers: receiversPage,
  receiver: receiverPage,
  locks: locksPage,
  messages: messagesPage,
  dead: deadLettersPage,
  tenants: tenantsPage,
  'event-types': eventTypesPage,
};

const view = document.getElementById('view') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let leavePage: (() => void) | void;

function route(): void {
  leavePage?.();
  leavePage = undefined;
  if (!session.token()) return showSignIn();
  nav.hidden = false;
  const { name, param } = routeOf(window.location.hash);
  const key = name === 'receivers' && param ? 'receiver' : name || 'overview';
  const page = ROUTES[key] ?? overviewPage;
  for (const link of nav.querySelectorAll('a[data-route]'))
    link.classList.toggle('active', link.getAttribute('data-route') === (key === 'receiver' ? 'receivers' : key));
  leavePage = page(view, param);
}

function showSignIn(message = ''): void {
  nav.hidden = true;
  const token = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    'aria-label': 'API token',
    placeholder: 'lst_…',
  });
  const problem = h('p', { class: 'error', role: 'alert' }, message);
  const form = h(
    'form',
    {
      class: 'sign-in',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void signIn(token.value.trim(), problem);
      },
    },
    h('h1', {}, 'Sign in to Lockstep'),
    h(
      'p',
      {},
      'Paste the API token: ',
      h('code', {}, 'LOCKSTEP_API_TOKEN'),
      ', or for ',
      h('code', {}, 'lockstep all'),
      ' the file its banner names (',
      h('code', {}, '.lockstep/api-token'),
      ' by default). It stays in this tab only (session storage) and is sent as a bearer token.',
    ),
    token,
    h('button', { type: 'submit' }, 'Sign in'),
    problem,
  );
  fill(view, form);
  token.focus();
}

async function signIn(token: string, problem: HTMLElement): Promise<void> {
  try {
    await api('GET', '/v1/locks', undefined, token);
    session.signIn(token);
    route();
  } catch (error) {
    problem.textContent =
      error instanceof ApiError && error.status === 401
        ? 'That token was refused. Check LOCKSTEP_API_TOKEN (a comma list accepts several).'
        : `Could not reach the API: ${(error as Error).message}`;
  }
}

document.getElementById('sign-out')?.addEventListener('click', () => {
  session.signOut();
  route();
});
window.addEventListener(SIGNED_OUT, () => {
  leavePage?.();
  leavePage = undefined;
  showSignIn('The API refused the token (it may have been rotated): sign in again.');
});
window.addEventListener('hashchange', route);
route();
