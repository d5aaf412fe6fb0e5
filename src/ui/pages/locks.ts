import { api } from '../api.js';
import type { Locks } from '../api-types.js';
import { fill, h, table } from '../dom.js';
import { duration, time } from '../format.js';
import { receiverUrls } from '../queries.js';
import { heading, type Page, poll, receiverCell, statusLine } from './page.js';

/** Lock holders change by the second: this page reads them every second. */
const REFRESH_MS = 1000;

export const locksPage: Page = (view) => {
  const status = statusLine();
  const backend = h('span', { class: 'badge' });
  const holders = h('section', {});
  fill(
    view,
    heading('Lock holders', status, backend),
    h(
      'p',
      { class: 'sub' },
      "Which emitter is sending to which receiver right now. One holder per receiver (slot 0), always; a receiver with maxInFlight above 1 has a row per held slot. Each slot's fence goes up with every new holder.",
    ),
    holders,
  );
  return poll(REFRESH_MS, status, async () => {
    const locks = await api<Locks>('GET', '/v1/locks');
    const urls = await receiverUrls(locks.data.map((holder) => holder.receiverId));
    backend.textContent = `backend: ${locks.backend}`;
    const now = Date.now();
    fill(
      holders,
      table(
        ['receiver', 'slot', 'emitter', 'fence', 'since', 'held for'],
        locks.data.map((holder) => [
          receiverCell(holder.receiverId, urls),
          holder.slot,
          h('span', { class: 'mono' }, holder.emitterId),
          holder.fence,
          time(holder.since),
          duration(now - Date.parse(holder.since)),
        ]),
        'No receiver is being served right now: every queue is empty or waiting for its retry time.',
      ),
    );
  });
};
