import type { AddressGuard } from '../delivery/address-guard.js';
import type { PatchReceiver, ReceiverSettings } from '../shapes/receivers.js';
import { badField } from '../errors.js';
import { MASK } from '../shapes/receivers.js';
import { checkKey } from './signing.js';

/** The checks a receiver's fields get beyond their JSON schema, before anything is stored. */

/** Headers Lockstep sets itself: a receiver's custom headers may not replace them. */
const RESERVED_HEADERS = /^(host|content-type|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|expect|webhook-.*)$/i;

/**
 * What undici (and Node's http) refuse in a header value: anything but tab, visible ASCII and
 * latin-1. Refused here, a CR/LF cannot split a request and a bad value cannot make every delivery
 * of the receiver fail later.
 */
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** A url the address guard refuses; `problem` is what the guard says about it. */
export const blockedUrl = (problem: string) =>
  badField('url', `points at a blocked address (${problem}); set LOCKSTEP_ALLOW_PRIVATE_NETWORKS=true for development`, 422);

export const badHeaderValue = (name: string) =>
  badField(`headers.${name}`, 'holds a character a header value cannot carry (CR, LF, NUL, another control character, or one above U+00FF)', 422);

export function checkReceiverInput<T extends PatchReceiver>(body: T, guard: AddressGuard): T {
  const url = parseUrl(body.url ?? '');
  const blocked = guard.literalUrlProblem(url.toString());
  if (blocked) throw blockedUrl(blocked);
  return checkReceiverFields(body);
}

export function checkReceiverFields<T extends PatchReceiver>(body: T): T {
  if (body.secret !== undefined) checkKey(body.secret, body.signatureScheme);
  for (const [name, value] of Object.entries(body.headers ?? {})) {
    if (RESERVED_HEADERS.test(name)) throw badField(`headers.${name}`, 'is set by Lockstep and cannot be overridden');
    if (value === MASK)
      throw badField(`headers.${name}`, 'is the mask shown for a hidden value, and no header of that name is stored to keep; send the real value', 422);
    if (BAD_HEADER_VALUE.test(value)) throw badHeaderValue(name);
  }
  return body;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badField('url', 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badField('url', 'must use http or https');
  if (url.username || url.password) throw badField('url', 'must not contain credentials; use `headers` (e.g. authorization) instead');
  if (!url.hostname) throw badField('url', 'has no host');
  return url;
}

/**
 * `strict` means one request at a time: a receiver cannot be strict with maxInFlight above 1 (422,
 * naming the field the request set; `stored` fills in what a PATCH leaves out).
 */
export function checkFlowControl(
  body: Partial<Pick<ReceiverSettings, 'ordering' | 'maxInFlight'>>,
  stored?: Pick<ReceiverSettings, 'ordering' | 'maxInFlight'>,
): void {
  const ordering = body.ordering ?? stored?.ordering;
  const maxInFlight = body.maxInFlight ?? stored?.maxInFlight ?? 1;
  if (ordering !== 'strict' || maxInFlight <= 1) return;
  if (body.maxInFlight !== undefined) throw badField('maxInFlight', 'must be 1 for a receiver with ordering "strict", which takes one request at a time', 422);
  throw badField('ordering', `cannot be "strict" while maxInFlight is ${maxInFlight}: strict means one request at a time (set maxInFlight to 1 too)`, 422);
}
