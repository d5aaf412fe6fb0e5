import { Signer, type SignatureHeaders } from './signer.js';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/), so that any of its libraries
 * verifies what Lockstep sends. The keys are in signing-keys.ts, the signer of a delivery window
 * (rotation overlap, ed25519) in signer.ts.
 */

export type { SignatureHeaders };
export { generateSecret, isValidSecret } from './signing-keys.js';

/**
 * The three Standard Webhooks headers for one attempt signed with one key: for a `whsec_`,
 * `webhook-signature` is `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the
 * base64-decoded secret after `whsec_` (a secret without the prefix is taken as bare base64, as the
 * libraries do); for a `whsk_`, `v1a,<base64 ed25519 signature>` of the same text.
 */
export function signatureHeaders(key: string, messageId: string, timestampSeconds: number, body: string): SignatureHeaders {
  return new Signer(key).headers(messageId, timestampSeconds, body, 0);
}
