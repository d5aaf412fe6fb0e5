import { createHmac, sign, type KeyObject } from 'node:crypto';
import { edPrivateKey } from './signing-keys.js';

export type SignatureHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** One key, decoded once: an HMAC key (`v1`) or an ed25519 private key (`v1a`). */
type KeyMaterial = { version: 'v1'; hmacKey: Buffer } | { version: 'v1a'; privateKey: KeyObject };

/** The previous key of a rotation and until when (this process's monotonic clock, ms) it still signs. */
export interface PreviousKey {
  key: string;
  untilMs: number;
}

/**
 * Signs a receiver's attempts with the keys of one claimed window. The keys are decoded once per
 * window (no per-attempt base64 or key import), and which keys sign is decided per attempt, at its
 * start: the current key always, first, and the previous one of a rotation while its overlap lasts,
 * as the Standard Webhooks spec allows (`v1,<new> v1,<old>`, space-separated).
 */
export class Signer {
  private readonly current: KeyMaterial;
  private readonly previous: (KeyMaterial & { untilMs: number }) | undefined;

  constructor(key: string, previous?: PreviousKey) {
    this.current = material(key);
    this.previous = previous ? { ...material(previous.key), untilMs: previous.untilMs } : undefined;
  }

  /** `nowMs` (monotonic) is the attempt's start: a previous key past its overlap signs nothing. */
  headers(messageId: string, timestampSeconds: number, body: string, nowMs: number): SignatureHeaders {
    // Verifiers parse the header as an integer; a fraction would sign text they never reconstruct.
    if (!Number.isSafeInteger(timestampSeconds)) throw new RangeError(`timestampSeconds must be whole seconds, got ${timestampSeconds}`);
    const text = `${messageId}.${timestampSeconds}.${body}`;
    const current = signature(this.current, text);
    return {
      'webhook-id': messageId,
      'webhook-timestamp': String(timestampSeconds),
      'webhook-signature': this.previous && nowMs < this.previous.untilMs ? `${current} ${signature(this.previous, text)}` : current,
    };
  }
}

function material(key: string): KeyMaterial {
  const privateKey = edPrivateKey(key);
  if (privateKey) return { version: 'v1a', privateKey };
  // a secret without the prefix is taken as bare base64, as the Standard Webhooks libraries do
  return { version: 'v1', hmacKey: Buffer.from(key.startsWith('whsec_') ? key.slice('whsec_'.length) : key, 'base64') };
}

/** The text is signed as its UTF-8 bytes (HMAC's `update` and `Buffer.from` both encode it so). */
function signature(key: KeyMaterial, text: string): string {
  const base64 =
    key.version === 'v1' ? createHmac('sha256', key.hmacKey).update(text).digest('base64') : sign(null, Buffer.from(text), key.privateKey).toString('base64');
  return `${key.version},${base64}`;
}
