import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

/**
 * The two Standard Webhooks signature schemes and their keys: `whsec_` (HMAC-SHA256, `v1`
 * signatures) and ed25519 (`v1a`), whose private key `whsk_` stays in Lockstep and whose public
 * key `whpk_` is what a receiver verifies with. Keys are base64 of the raw key bytes, as the spec
 * serialises them: a `whpk_` holds the 32-byte public key; a `whsk_` the 64-byte secret key of
 * libsodium and Go (seed then public key). A 32-byte `whsk_` (the seed alone, as Node and Python's
 * `cryptography` export it) is taken too.
 */
export type SignatureScheme = 'hmac-sha256' | 'ed25519';

const HMAC_PREFIX = 'whsec_';
const SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const ED_SECRET = 'whsk_';
const ED_PUBLIC = 'whpk_';
/** PKCS#8 DER of an ed25519 private key, up to its 32-byte seed (RFC 8410): Node imports raw seeds this way. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A new signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export function generateSecret(): string {
  return `${HMAC_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * `whsec_` followed by canonical base64 of 24 to 64 bytes. Canonical, because Buffer.from skips
 * characters it does not understand: a secret with a typo would otherwise sign with a different
 * key than the receiver's library derives.
 */
export function isValidSecret(secret: string): boolean {
  const bytes = canonicalBase64(secret, HMAC_PREFIX);
  return bytes !== undefined && bytes.length >= SECRET_BYTES && bytes.length <= MAX_SECRET_BYTES;
}

/** The scheme a key belongs to, by its prefix (undefined: neither). */
export function schemeOfKey(key: string): SignatureScheme | undefined {
  if (key.startsWith(HMAC_PREFIX)) return 'hmac-sha256';
  if (key.startsWith(ED_SECRET)) return 'ed25519';
  return undefined;
}

/** A new signing key of the scheme: a `whsec_` secret, or an ed25519 `whsk_` (a fresh key pair). */
export function generateKey(scheme: SignatureScheme): string {
  if (scheme === 'hmac-sha256') return generateSecret();
  const { privateKey } = generateKeyPairSync('ed25519');
  const { d, x } = privateKey.export({ format: 'jwk' });
  return `${ED_SECRET}${Buffer.concat([Buffer.from(d ?? '', 'base64url'), Buffer.from(x ?? '', 'base64url')]).toString('base64')}`;
}

/** A well-formed key of the scheme (canonical base64; a 64-byte `whsk_` whose public half matches its seed). */
export function isValidKey(key: string, scheme: SignatureScheme): boolean {
  if (scheme === 'hmac-sha256') return isValidSecret(key);
  return edPrivateKey(key) !== undefined;
}

/** What a receiver verifies with: the `whsec_` itself, or the `whpk_` public key of a `whsk_`. */
export function verificationKey(key: string): string {
  const privateKey = schemeOfKey(key) === 'ed25519' ? edPrivateKey(key) : undefined;
  return privateKey ? `${ED_PUBLIC}${rawPublicKey(createPublicKey(privateKey)).toString('base64')}` : key;
}

/** The public key of a `whpk_`, for verifiers (Node's crypto.verify takes a KeyObject). */
export function publicKeyObject(whpk: string): KeyObject {
  if (!whpk.startsWith(ED_PUBLIC)) throw new RangeError('not a whpk_ key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(whpk.slice(ED_PUBLIC.length), 'base64').toString('base64url') }, format: 'jwk' });
}

/** The private key of a `whsk_`, or undefined when it is not one. */
export function edPrivateKey(key: string): KeyObject | undefined {
  const bytes = canonicalBase64(key, ED_SECRET);
  if (bytes?.length !== 32 && bytes?.length !== 64) return undefined;
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
  // the libsodium form repeats the public key: one that does not belong to the seed is a damaged key
  if (bytes.length === 64 && !rawPublicKey(createPublicKey(privateKey)).equals(bytes.subarray(32))) return undefined;
  return privateKey;
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
}

/** The bytes after `prefix` when they are canonical base64, else undefined. */
function canonicalBase64(key: string, prefix: string): Buffer | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const encoded = key.slice(prefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  return bytes.toString('base64') === encoded ? bytes : undefined;
}
