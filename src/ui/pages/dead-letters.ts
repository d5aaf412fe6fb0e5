import { api } from '../api.js';
import { allReceivers } from '../queries.js';
import type { DeadLetter, Page as ApiPage, Receiver } from '../api-types.js';
import { fill, h, table, toast } from '../dom.js';
import { ago, excerpt } from '../format.js';
import { heading, messageLink, type Page, poll, receiverLink, statusLine } from './page.js';

const REFRESH_MS = 3000;
const SHOWN = 100;

/** One receiver's dead letters with a replay button each; refreshes itself until stopped. */
export function deadLetterList(into: HTMLElement, receiverId: string): () => void {
  const status = statusLine();
  const list = h('div', {});
  const replayAll = h('button', { type: 'button', class: 'secondary', onclick: () => void replay(receiverId, undefined) }, 'Replay all');
  fill(into, h('div', { class: 'section-tools' }, replayAll, status), list);
  return poll(REFRESH_MS, status, async () => {
    const page = await api<ApiPage<DeadLetter>>('GET', `/v1/receivers/${receiverId}/dead-letters?limit=${SHOWN}`);
    replayAll.toggleAttribute('disabled', page.data.length === 0);
    fill(
      list,
      table(
        ['message', 'event type', 'died', 'attempts', 'last answer', ''],
        page.data.map((letter) => [
          messageLink(letter.messageId),
          letter.eventType,
          ago(letter.diedAt),
          letter.attempts,
          lastAnswer(letter),
          h('button', { type: 'button', 'data-message': letter.messageId, onclick: () => void replay(receiverId, letter.messageId) }, 'Replay'),
        ]),
        'No dead letters: every delivery succeeded or is still being retried.',
      ),
      page.next ? h('p', { class: 'sub' }, `Showing the ${SHOWN} most recent.`) : null,
    );
  });
}

function lastAnswer(letter: DeadLetter): string {
  const last = letter.lastAttempt;
  if (!last) return '—';
  return last.statusCode !== null ? `HTTP ${last.statusCode} ${excerpt(last.responseBody, 60)}` : excerpt(last.error, 80);
}

async function replay(receiverId: string, messageId: string | undefined): Promise<void> {
  try {
    const { count } = await api<{ count: number }>('POST', `/v1/receivers/${receiverId}/replay`, messageId ? { messageIds: [messageId] } : { status: 'dead' });
    toast(messageId ? `Re-queued ${messageId}: follow it on its message page.` : `Re-queued ${count} dead letter${count === 1 ? '' : 's'}.`);
    if (messageId) window.location.hash = `#/messages/${messageId}`;
  } catch (error) {
    toast(`Replay failed: ${(error as Error).message}`, 'error');
  }
}

/** Every receiver that has dead letters, each with its list. */
export const deadLettersPage: Page = (view) => {
  const status = statusLine();
  const sections = h('div', {});
  fill(view, heading('Dead letters', status), sections);
  const lists = new Map<string, () => void>();
  const stopPolling = poll(REFRESH_MS, status, async () => {
    const withDead = (await allReceivers()).filter((receiver) => receiver.health.deadLetters > 0);
    showReceivers(sections, withDead, lists);
  });
  return () => {
    stopPolling();
    for (const stop of lists.values()) stop();
  };
};

/** Adds a section for each receiver that gained dead letters; keeps the others as they are. */
function showReceivers(into: HTMLElement, receivers: Receiver[], lists: Map<string, () => void>): void {
  if (receivers.length === 0 && lists.size === 0) {
    fill(into, h('p', { class: 'empty' }, 'No dead letters anywhere.'));
    return;
  }
  if (lists.size === 0) fill(into);
  for (const receiver of receivers) {
    if (lists.has(receiver.id)) continue;
    const section = h('section', { class: 'dead-receiver' });
    into.append(h('h2', {}, receiverLink(receiver.id, receiver.url)), section);
    lists.set(receiver.id, deadLetterList(section, receiver.id));
  }
}
