import { Signer } from '../delivery/signer.js';
import type { ClaimedDelivery, ClaimedReceiver } from '../store/deliveries.js';

/**
 * The signer of one claimed window. `claimSentAt` (this process's monotonic clock) is when the
 * claim was sent: the claim read the rotation's remaining overlap on Redis's clock after that, so
 * the previous key stops signing here no later than it stops on Redis's clock.
 */
export function signerFor(receiver: ClaimedReceiver, claimSentAt: number): Signer {
  const { previous } = receiver;
  return new Signer(receiver.secret, previous ? { key: previous.secret, untilMs: claimSentAt + previous.forMs } : undefined);
}

/**
 * The request a receiver gets (README "What a receiver gets"). The payload is spliced in as the
 * JSON text it was stored as, never parsed and serialised again. The receiver's own headers go
 * first so they can never replace the content type, the signature or the trace context. `nowMs`
 * is the attempt's start on the wall clock (the `webhook-timestamp`), `monotonicMs` the same moment
 * for the signer.
 */
export function webhookRequest(
  signer: Signer,
  receiver: ClaimedReceiver,
  delivery: ClaimedDelivery,
  fence: number,
  { nowMs, monotonicMs }: { nowMs: number; monotonicMs: number },
): { body: string; headers: Record<string, string> } {
  const body = `{"type":${JSON.stringify(delivery.eventType)},"timestamp":${JSON.stringify(delivery.createdAt)},"data":${delivery.payloadJson},"fence":${fence}}`;
  const headers: Record<string, string> = {
    ...receiver.headers,
    'content-type': 'application/json',
    ...signer.headers(delivery.messageId, Math.floor(nowMs / 1000), body, monotonicMs),
  };
  // the producer's trace context, passed on as it came (an emitter that traces replaces it with its attempt span's)
  if (delivery.traceparent) headers.traceparent = delivery.traceparent;
  return { body, headers };
}
