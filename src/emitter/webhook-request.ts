import { signatureHeaders } from '../delivery/sign.js';
import type { ClaimedDelivery } from '../store/deliveries.js';

/**
 * The request a receiver gets (API.md "What a receiver gets"). The payload is spliced in as the
 * JSON text it was stored as, never parsed and serialised again. The receiver's own headers go
 * first so they can never replace the content type or the signature.
 */
export function webhookRequest(delivery: ClaimedDelivery, fence: number, nowMs: number): { body: string; headers: Record<string, string> } {
  const body = `{"type":${JSON.stringify(delivery.eventType)},"timestamp":${JSON.stringify(delivery.createdAt)},"data":${delivery.payloadJson},"fence":${fence}}`;
  const headers = {
    ...delivery.receiver.headers,
    'content-type': 'application/json',
    ...signatureHeaders(delivery.receiver.secret, delivery.messageId, Math.floor(nowMs / 1000), body),
  };
  return { body, headers };
}
