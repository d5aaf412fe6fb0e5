import type { DeliveryStatus } from '../api-types.js';
import { h, toast } from '../dom.js';

/** A page draws into `view`; what it returns is called when the operator leaves it. */
export type Page = (view: HTMLElement, param: string | undefined) => (() => void) | void;

/** The page, its one parameter and its query in `#/name/param?query` (the query is the page's own to read). */
export function routeOf(hash: string): { name: string; param: string | undefined; query: URLSearchParams } {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [name = '', param] = path.split('/');
  return { name, param: param ? decodeURIComponent(param) : undefined, query: new URLSearchParams(query) };
}

/**
 * Runs `refresh` now and every `everyMs` (never two at once) until stopped. A failing refresh
 * shows its error in `status` and is tried again on the next tick.
 */
export function poll(everyMs: number, status: HTMLElement, refresh: () => Promise<void>): () => void {
  let stopped = false;
  let timer: number | undefined;
  const tick = async (): Promise<void> => {
    try {
      await refresh();
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      status.classList.remove('error');
    } catch (error) {
      status.textContent = `could not refresh: ${(error as Error).message}`;
      status.classList.add('error');
    }
    if (!stopped) timer = window.setTimeout(() => void tick(), everyMs);
  };
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

export function heading(title: string, status: HTMLElement, ...extra: Node[]): HTMLElement {
  return h('header', { class: 'page-head' }, h('h1', {}, title), h('div', { class: 'page-tools' }, ...extra, status));
}

export function statusLine(): HTMLElement {
  return h('span', { class: 'refresh-status', 'aria-live': 'polite' });
}

/** How each delivery status is coloured, wherever one is shown; in the order a delivery goes through them. */
export const DELIVERY_TONES = {
  pending: 'idle',
  delivering: 'warn',
  delivered: 'ok',
  retrying: 'warn',
  dead: 'bad',
  cancelled: 'idle',
} as const satisfies Record<DeliveryStatus, 'ok' | 'warn' | 'bad' | 'idle'>;

/** A button whose action reports its own failure in a toast (a click handler's promise goes nowhere). */
export function action(label: string, run: () => Promise<void>, kind = 'secondary'): HTMLElement {
  return h(
    'button',
    { type: 'button', class: kind, onclick: () => void run().catch((error: unknown) => toast(`${label} failed: ${(error as Error).message}`, 'error')) },
    label,
  );
}

export function pill(text: string, tone: 'ok' | 'warn' | 'bad' | 'idle'): HTMLElement {
  return h('span', { class: `pill ${tone}` }, text);
}

export function receiverLink(id: string, label = id): HTMLElement {
  return h('a', { href: `#/receivers/${id}`, class: 'mono' }, label);
}

/** A receiver's id as a link, with its URL when known. */
export function receiverCell(id: string, urls: Map<string, string>): HTMLElement {
  const url = urls.get(id);
  return h('span', {}, receiverLink(id), url ? h('span', { class: 'sub' }, ` ${url}`) : null);
}

export function messageLink(id: string): HTMLElement {
  return h('a', { href: `#/messages/${id}`, class: 'mono' }, id);
}
