import { MASK, type PublicReceiver } from '../shapes/receivers.js';
import type { ReceiverView } from '../store/types.js';

/**
 * What the API shows of a receiver. The signing secret leaves the API only in the 201 of a create
 * and from GET /v1/receivers/:id/secret, so a token that can list receivers (a dashboard left open,
 * a support script, a log of API responses) does not hand out every receiver's secret. Custom
 * header values that look like credentials are masked for the same reason.
 */
export type { PublicReceiver };
export { MASK };

/** `authorization`, `proxy-authorization`, `cookie`, and any name holding `token`, `key` or `secret`. */
const CREDENTIAL_HEADER = /^(proxy-)?authorization$|^cookie$|token|key|secret/i;

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER.test(name);
}

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? MASK : value]));
}

export function publicReceiver(receiver: ReceiverView): PublicReceiver {
  const { secret: _secret, ...shown } = receiver;
  return { ...shown, headers: maskHeaders(receiver.headers) };
}

/**
 * A PATCH may send back the headers it read, masked values included: a masked value then means
 * "keep what is stored", so editing one header never wipes out a credential the client cannot see.
 */
export function unmaskHeaders(patch: Record<string, string>, stored: Record<string, string>): Record<string, string> {
  const storedByName = new Map(Object.entries(stored).map(([name, value]) => [name.toLowerCase(), value]));
  return Object.fromEntries(Object.entries(patch).map(([name, value]) => [name, value === MASK ? (storedByName.get(name.toLowerCase()) ?? value) : value]));
}
