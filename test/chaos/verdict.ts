import type { MessageView } from '../support/lockstep.js';
import type { RecordedRequest, TestReceiver } from '../support/receiver.js';
import type { PauseWindow } from './faults.js';
import type { AcceptedMessage } from './workload.js';

export type Invariant = 'no-overlap' | 'no-stale-fence' | 'delivered-or-dead' | 'acceptance-order' | 'emitters-stay-up';

export interface Finding {
  invariant: Invariant;
  at?: number;
  detail: string;
}

/** What the run's checks found: violations fail it; excused overlaps are README guarantee 1's stated limit. */
export interface Verdict {
  violations: Finding[];
  excused: Finding[];
  notes: string[];
}

/** A frozen holder wakes, finds its deadline passed and aborts: this long after SIGCONT is still "frozen". */
const WAKE_GRACE_MS = 1000;

export interface VerdictInput {
  receiver: TestReceiver;
  /** Receiver id → its name on the test receiver. */
  names: Map<string, string>;
  accepted: AcceptedMessage[];
  views: Map<string, MessageView>;
  pauses: PauseWindow[];
  clockSteps: { emitterId: string; at: number; offsetS: number }[];
  /** Receiver name → what its schedule says after the settle phase (next retry, breaker, drain job due). */
  whyStillOpen: Map<string, string>;
  crashes: { emitterId: string; code: number | null; at: number; lastLogs: string[] }[];
  stamp: (at: number) => string;
  /** Who was seen holding a receiver under a fence (polled), for senders with no attempt record. */
  holderOf: (receiverId: string, fence: number) => string | undefined;
}

/** Checks the four invariants on what the receivers themselves recorded, and the API's final states. */
export function judge(input: VerdictInput): Verdict {
  const verdict: Verdict = { violations: [], excused: [], notes: [] };
  overlaps(input, verdict);
  staleFences(input, verdict);
  finalStates(input, verdict);
  order(input, verdict);
  for (const crash of input.crashes) {
    verdict.violations.push({
      invariant: 'emitters-stay-up',
      at: crash.at,
      detail: `${crash.emitterId} exited by itself (code ${crash.code}) at ${input.stamp(crash.at)}; last logs: ${crash.lastLogs.join(' | ').slice(-4000)}`,
    });
  }
  return verdict;
}

/**
 * The emitter's wall-clock steps, for a report line: at a moment (`at`), the offset in force then;
 * without one, its last six steps. Nothing for an emitter never stepped.
 */
function clockHistory(input: VerdictInput, emitter: string, at?: number): string {
  const id = emitter.split(' ')[0];
  const steps = input.clockSteps.filter((s) => s.emitterId === id);
  const signed = (n: number): string => `${n > 0 ? '+' : ''}${n} s`;
  if (at !== undefined) {
    const inForce = steps.filter((s) => s.at <= at).at(-1);
    return inForce && inForce.offsetS !== 0 ? `, whose wall clock was ${signed(inForce.offsetS)} off then (since ${input.stamp(inForce.at)})` : '';
  }
  const shown = steps.slice(-6).map((s) => `${signed(s.offsetS)} at ${input.stamp(s.at)}`);
  return steps.length === 0 ? '' : `, whose wall clock was stepped to ${steps.length > 6 ? '… ' : ''}${shown.join(', ')}`;
}

/** The emitter that sent `fence` to `receiverName`: from the API's attempt records, else from the polled lock holders. */
function senderOf(input: VerdictInput, messageId: string, receiverName: string, fence: number): string | undefined {
  const view = input.views.get(messageId);
  const delivery = view?.deliveries.find((d) => input.names.get(d.receiverId) === receiverName);
  const recorded = delivery?.attempts.find((a) => a.fence === fence)?.emitterId;
  const receiverId = [...input.names].find(([, name]) => name === receiverName)?.[0];
  const seen = receiverId === undefined ? undefined : input.holderOf(receiverId, fence);
  return recorded ?? (seen ? `${seen} (seen holding it in /v1/locks; no attempt recorded)` : undefined);
}

function overlaps(input: VerdictInput, verdict: Verdict): void {
  const { stamp, pauses } = input;
  for (const overlap of input.receiver.overlaps) {
    for (const other of overlap.others) {
      const sender = senderOf(input, other.messageId, overlap.receiver, other.fence);
      // the older request was written before its sender froze: the receiver stamped it before the
      // SIGCONT, and a frozen process writes nothing (the stamp may trail the write: by 25 ms after
      // the SIGSTOP on a loaded machine, chaos seed 5404 on etcd)
      const frozen = pauses.find(
        (p) => sender?.split(' ')[0] === p.emitterId && p.from <= overlap.at && overlap.at <= p.to + WAKE_GRACE_MS && other.start < p.to,
      );
      const detail = `${overlap.receiver}: a request under fence ${overlap.fence} (${overlap.messageId}) began at ${stamp(overlap.at)} while one under fence ${other.fence} (${other.messageId}, sent by ${sender ? `${sender}${clockHistory(input, sender, overlap.at)}` : 'an emitter neither the API nor /v1/locks names'}, begun at ${stamp(other.start)}) was still in flight`;
      // the sender had already aborted it (closed the connection); only the receiver's own handler still ran
      const abortedBefore = other.closedAt !== undefined && other.closedAt <= overlap.at;
      if (abortedBefore && !frozen)
        verdict.excused.push({
          invariant: 'no-overlap',
          at: overlap.at,
          detail: `${detail}; but its sender had aborted it at ${stamp(other.closedAt ?? 0)} (connection closed): only the receiver's own handler was still running it`,
        });
      else if (frozen)
        verdict.excused.push({
          invariant: 'no-overlap',
          at: overlap.at,
          detail: `${detail}; its sender was SIGSTOPped ${stamp(frozen.from)}–${stamp(frozen.to)} (README guarantee 1's stated limit)`,
        });
      else verdict.violations.push({ invariant: 'no-overlap', at: overlap.at, detail });
    }
  }
}

function staleFences(input: VerdictInput, verdict: Verdict): void {
  const { stamp } = input;
  for (const stale of input.receiver.staleFences) {
    const at = stale.at ?? 0;
    const sender = stale.messageId ? senderOf(input, stale.messageId, stale.receiver, stale.fence) : undefined;
    // a sender frozen between its deadline check and the write sends once on waking: say so when it fits
    const woke = input.pauses.find((p) => sender?.split(' ')[0] === p.emitterId && p.from <= at && at <= p.to + WAKE_GRACE_MS);
    const context = woke ? `; its sender was SIGSTOPped ${stamp(woke.from)}–${stamp(woke.to)}: it sent on waking, past its deadline` : '';
    verdict.violations.push({
      invariant: 'no-stale-fence',
      ...(stale.at ? { at: stale.at } : {}),
      detail: `${stale.receiver}: fence ${stale.fence} (${stale.messageId ?? '?'}, sent by ${sender ?? 'an emitter neither the API nor /v1/locks names'}) arrived at ${stale.at ? stamp(stale.at) : '?'} after fence ${stale.highest} had been seen: a stale holder sent (refused with 409)${context}`,
    });
  }
}

function finalStates(input: VerdictInput, verdict: Verdict): void {
  const byStatus = new Map<string, number>();
  // per receiver, the oldest open delivery (the head that holds its queue up) first, then the rest
  const open = new Map<string, Finding[]>();
  const ok = new Set(input.receiver.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => `${r.receiver}|${r.messageId}`));
  for (const message of input.accepted) {
    const view = input.views.get(message.id);
    if (!view) {
      verdict.violations.push({ invariant: 'delivered-or-dead', detail: `message #${message.n} ${message.id}: the API never answered for it` });
      continue;
    }
    for (const delivery of view.deliveries) {
      byStatus.set(delivery.status, (byStatus.get(delivery.status) ?? 0) + 1);
      const name = input.names.get(delivery.receiverId) ?? delivery.receiverId;
      const last = delivery.attempts.at(-1);
      if (delivery.status !== 'delivered' && delivery.status !== 'dead') {
        open.set(name, [
          ...(open.get(name) ?? []),
          {
            invariant: 'delivered-or-dead',
            detail: `message #${message.n} ${message.id} → ${name}: still ${delivery.status} after the settle phase (${delivery.attempts.length} attempts; last: ${last ? `${last.statusCode ?? last.error} by ${last.emitterId} fence ${last.fence}${clockHistory(input, last.emitterId)}` : 'none'})`,
          },
        ]);
      } else if (delivery.status === 'delivered' && !ok.has(`${name}|${message.id}`)) {
        verdict.violations.push({
          invariant: 'delivered-or-dead',
          detail: `message #${message.n} ${message.id} → ${name}: recorded delivered, but the receiver never answered it 2xx`,
        });
      }
    }
  }
  const heads = [...open].map(([name, findings]) => {
    const why = input.whyStillOpen.get(name);
    const head = findings[0] as Finding;
    return {
      ...head,
      detail: `${head.detail}; ${findings.length - 1} more open behind it${why === undefined ? '' : `; ${name}: ${why}`}`,
    };
  });
  verdict.violations.push(...heads, ...[...open.values()].flatMap((findings) => findings.slice(1)));
  verdict.notes.push(`deliveries by status after settling: ${JSON.stringify(Object.fromEntries(byStatus))}`);
  if (open.size > 0) verdict.notes.push(`open deliveries by receiver: ${[...open].map(([name, findings]) => `${name} ${findings.length}`).join(', ')}`);
}

/** First attempts in acceptance order, per receiver, from the receiver's own arrival order. */
function order(input: VerdictInput, verdict: Verdict): void {
  const requestsByName = new Map<string, RecordedRequest[]>();
  for (const request of input.receiver.requests) requestsByName.set(request.receiver, [...(requestsByName.get(request.receiver) ?? []), request]);
  const known = new Set(input.accepted.map((m) => m.id));
  let unknown = 0;
  for (const [receiverId, name] of input.names) {
    const expected = input.accepted.filter((m) => m.receiverIds.includes(receiverId));
    const requests = (requestsByName.get(name) ?? []).sort((a, b) => a.seq - b.seq);
    unknown += new Set(requests.filter((r) => !known.has(r.messageId)).map((r) => r.messageId)).size;
    const firstSeen = [...new Set(requests.map((r) => r.messageId))].filter((id) => known.has(id));
    const seen = new Set(firstSeen);
    const expectedSeen = expected.filter((m) => seen.has(m.id));
    const at = expectedSeen.findIndex((m, i) => m.id !== firstSeen[i]);
    if (at < 0) continue;
    const displaced = expectedSeen.filter((m, i) => m.id !== firstSeen[i]).length;
    const came = expected.find((m) => m.id === firstSeen[at]);
    const due = expectedSeen[at] as AcceptedMessage;
    const request = requests.find((r) => r.messageId === firstSeen[at]);
    verdict.violations.push({
      invariant: 'acceptance-order',
      ...(request ? { at: request.start } : {}),
      detail: `${name}: first attempt of message #${came?.n} (${firstSeen[at]}) arrived${request ? ` at ${input.stamp(request.start)} (fence ${request.fence})` : ''} before the first attempt of #${due.n} (${due.id}), accepted earlier; ${displaced} of ${expectedSeen.length} first attempts out of place`,
    });
  }
  if (unknown > 0) verdict.notes.push(`${unknown} message ids reached receivers that the producer never saw accepted (intake given up on after retries)`);
}
