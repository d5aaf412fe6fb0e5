import { signatureHeaders } from '../delivery/sign.js';
import type { ClaimedDelivery, ClaimedReceiver } from '../store/deliveries.js';

/**
 * The request a receiver gets (README "What a receiver gets"). The payload is spliced in as the
 * JSON text it was stored as, never parsed and serialised again. The receiver's own headers go
 * first so they can never replace the content type, the signature or the trace context.
 */
export function webhookRequest(
  receiver: ClaimedReceiver,
  delivery: ClaimedDelivery,
  fence: number,
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const body = `{"type":${JSON.stringify(delivery.eventType)},"timestamp":${JSON.stringify(delivery.createdAt)},"data":${delivery.payloadJson},"fence":${fence}}`;
  const headers: Record<string, string> = {
    ...receiver.headers,
    'content-type': 'application/json',
    ...signatureHeaders(receiver.secret, delivery.messageId, Math.floor(nowMs / 1000), body),
  };
  // the producer's trace context, passed on as it came (an emitter that traces replaces it with its attempt span's)
  if (delivery.traceparent) headers.traceparent = delivery.traceparent;
  return { body, headers };
}
