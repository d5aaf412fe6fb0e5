import { verify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { publicKeyObject } from '../../src/delivery/signing-keys.js';

/**
 * How a receiver checks what Lockstep signed: `v1a` (ed25519) with Node's own crypto.verify and the
 * `whpk_`, `v1` (HMAC) with the Standard Webhooks reference library (which knows no `v1a`).
 */
export function verifiesEd25519(whpk: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const text = Buffer.from(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`);
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((signature) => signature.startsWith('v1a,'))
    .some((signature) => verify(null, text, publicKeyObject(whpk), Buffer.from(signature.slice(4), 'base64')));
}

/** The reference library's verdict for a receiver holding only `secret`. */
export function verifiesHmac(secret: string, headers: Record<string, string>, body: string): boolean {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}
