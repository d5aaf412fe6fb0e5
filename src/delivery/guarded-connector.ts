import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import type { AddressGuard } from './address-guard.js';

/**
 * The address guard inside undici's connector: IP literals are judged before any socket exists,
 * names on every address they resolve to, the very addresses the socket then uses, so DNS
 * rebinding cannot slip past a check made earlier.
 */

export type Resolver = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

/** The `code` of the error a refused address fails with; the delivery client reports it as 'blocked-address'. */
export const BLOCKED_ADDRESS_CODE = 'ELOCKSTEP_BLOCKED_ADDRESS';
const ALLOW_HINT = 'allow it with LOCKSTEP_ALLOW_CIDRS';

/** undici's connector with the guard in it: literals are judged here, as net.connect skips the lookup for them. */
export function guardedConnector(guard: AddressGuard, resolve: Resolver): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(guard, resolve) });
  return (options, callback) => {
    const reason = isIP(options.hostname) ? guard.check(options.hostname) : null;
    if (reason === null) return connect(options, callback);
    const error = blockedError(`address ${options.hostname} is blocked (${reason}); ${ALLOW_HINT}`);
    queueMicrotask(() => callback(error, null));
  };
}

/**
 * The lookup net.connect uses: it keeps only the addresses the guard allows, for every family and
 * for both the single-answer and `all` forms (Happy Eyeballs asks for all). A name with no allowed
 * address fails before any socket is opened.
 */
function guardedLookup(guard: AddressGuard, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (allowed: LookupAddress[]): void => {
      const first = allowed[0] as LookupAddress;
      if (options.all) return callback(null, allowed);
      return callback(null, first.address, first.family);
    };
    allowedAddresses(hostname, guard, resolve, options).then(answer, (error: NodeJS.ErrnoException) => callback(error, []));
  };
}

/**
 * The addresses of `hostname` the guard allows, at least one: an IP literal is judged as it is,
 * a name on every address it resolves to. Fails with ENOTFOUND, or a blocked-address error.
 */
export async function allowedAddresses(hostname: string, guard: AddressGuard, resolve: Resolver, options: LookupOptions = {}): Promise<LookupAddress[]> {
  const family = isIP(hostname);
  if (family !== 0) {
    const reason = guard.check(hostname);
    if (reason !== null) throw blockedError(`address ${hostname} is blocked (${reason}); ${ALLOW_HINT}`);
    return [{ address: hostname, family }];
  }
  const addresses = await resolve(hostname, { ...options, all: true });
  const allowed = addresses.filter(({ address }) => guard.check(address) === null);
  if (allowed.length === 0) throw noAllowedAddress(hostname, addresses, guard);
  return allowed;
}

function noAllowedAddress(hostname: string, addresses: LookupAddress[], guard: AddressGuard): NodeJS.ErrnoException {
  if (addresses.length === 0) return Object.assign(new Error(`${hostname} resolves to no address`), { code: 'ENOTFOUND' });
  const refused = addresses.map(({ address }) => `${address} (${guard.check(address)})`).join(', ');
  return blockedError(`${hostname} resolves to blocked addresses only: ${refused}; ${ALLOW_HINT}`);
}

function blockedError(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = BLOCKED_ADDRESS_CODE;
  return error;
}
