import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/), so that any of its libraries
 * verifies what Lockstep sends.
 */

const PREFIX = 'whsec_';
const SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

export type SignatureHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** A new signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * `whsec_` followed by canonical base64 of 24 to 64 bytes. Canonical, because Buffer.from skips
 * characters it does not understand: a secret with a typo would otherwise sign with a different
 * key than the receiver's library derives.
 */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX)) return false;
  const encoded = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return false;
  const bytes = Buffer.from(encoded, 'base64');
  return bytes.length >= SECRET_BYTES && bytes.length <= MAX_SECRET_BYTES && bytes.toString('base64') === encoded;
}

/**
 * The three Standard Webhooks headers for one attempt: `webhook-signature` is
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the base64-decoded secret
 * after `whsec_` (a secret without the prefix is taken as bare base64, as the libraries do).
 */
export function signatureHeaders(secret: string, messageId: string, timestampSeconds: number, body: string): SignatureHeaders {
  // Verifiers parse the header as an integer; a fraction would sign text they never reconstruct.
  if (!Number.isSafeInteger(timestampSeconds)) throw new RangeError(`timestampSeconds must be whole seconds, got ${timestampSeconds}`);
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  const signature = createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': messageId, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
