import { generateKey, isValidKey, schemeOfKey, verificationKey } from '../delivery/signing-keys.js';
import { badField, notFound } from '../errors.js';
import type { ReceiverSecret, RotatedSecret, RotateSecret, SignatureScheme } from '../shapes/signing.js';
import type { ReceiverView, Store } from '../store/index.js';
import type { DomainLog } from './log.js';

/** 24 h: how long a rotated-out key keeps signing when the rotation does not say. */
export const DEFAULT_OVERLAP_MS = 86_400_000;

const KEY_FORMS: Record<SignatureScheme, string> = {
  'hmac-sha256': 'must be whsec_ followed by base64 of 24 to 64 bytes',
  ed25519: 'must be whsk_ followed by base64 of an ed25519 secret key (64 bytes, seed then public key, or the 32-byte seed)',
};

export const badKey = (scheme: SignatureScheme) => badField('secret', KEY_FORMS[scheme]);

/** A key's prefix names its scheme; a scheme named beside it must agree (400 naming `secret`). */
export function checkKey(secret: string, scheme: SignatureScheme | undefined): SignatureScheme {
  const wanted = scheme ?? schemeOfKey(secret) ?? 'hmac-sha256';
  if (!isValidKey(secret, wanted)) throw badKey(wanted);
  return wanted;
}

export type SigningSettings = { secret: string; signatureScheme: SignatureScheme };

/**
 * The key and scheme a create stores (a given key, its scheme from its prefix; else a new key of
 * the scheme, hmac-sha256 by default), or a PATCH of a receiver stored with `stored`: a given key,
 * a new key when only the scheme changes, else nothing.
 */
export function signingSettings(input: Partial<SigningSettings>): SigningSettings;
export function signingSettings(input: Partial<SigningSettings>, stored: SignatureScheme): SigningSettings | undefined;
export function signingSettings(input: Partial<SigningSettings>, stored?: SignatureScheme): SigningSettings | undefined {
  if (input.secret !== undefined) return { secret: input.secret, signatureScheme: checkKey(input.secret, input.signatureScheme) };
  const scheme = input.signatureScheme ?? (stored ? undefined : 'hmac-sha256');
  if (scheme === undefined || scheme === stored) return undefined;
  return { secret: generateKey(scheme), signatureScheme: scheme };
}

/** What GET /v1/receivers/:id/secret shows: the key a receiver verifies with, never an ed25519 private key. */
export function receiverSecret(receiver: ReceiverView): ReceiverSecret {
  return {
    secret: verificationKey(receiver.secret),
    signatureScheme: receiver.signatureScheme,
    previousSecretExpiresAt: receiver.previousSecretExpiresAt ?? null,
  };
}

/**
 * Rotation: the new key signs every attempt that starts after the answer (the store answers once
 * the emitters confirm its notice: store/notice-confirmations.ts), the old one beside it until the
 * overlap ends (both signatures, new first). `overlapMs` 0 switches at once.
 */
export async function rotateKey(store: Store, receiver: ReceiverView, input: RotateSecret, log: DomainLog): Promise<RotatedSecret> {
  const next = signingSettings({ secret: input?.secret ?? generateKey(receiver.signatureScheme) });
  const overlapMs = input?.overlapMs ?? DEFAULT_OVERLAP_MS;
  const rotation = await store.receiverKeys.rotate(receiver.id, next, overlapMs);
  if (rotation.kind === 'gone') throw notFound(`receiver ${receiver.id}`);
  log.info({ receiverId: receiver.id, signatureScheme: next.signatureScheme, overlapMs }, 'receiver signing key rotated');
  warnUnconfirmed(log, receiver.id, rotation.unconfirmed);
  return { secret: verificationKey(next.secret), previousSecretExpiresAt: rotation.previousSecretUntil?.toISOString() ?? null };
}

/** Says when emitters heard a receiver's config change but did not confirm taking it in before the answer. */
export function warnUnconfirmed(log: DomainLog, receiverId: string, unconfirmed: number): void {
  if (unconfirmed === 0) return;
  log.warn(
    { receiverId, unconfirmed },
    `${unconfirmed} subscriber(s) of the config-change notices heard the change of receiver ${receiverId} but did not confirm it within a second (a paused or starved emitter, or a client subscribed by hand): a request such an emitter was about to send may still use the old config`,
  );
}
