import type { LookupAddress, LookupAllOptions } from 'node:dns';
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
    const answer = (addresses: LookupAddress[]): void => {
      const allowed = addresses.filter(({ address }) => guard.check(address) === null);
      const first = allowed[0];
      if (first === undefined) return callback(noAllowedAddress(hostname, addresses, guard), []);
      if (options.all) return callback(null, allowed);
      return callback(null, first.address, first.family);
    };
    resolve(hostname, { ...options, all: true }).then(answer, (error: NodeJS.ErrnoException) => callback(error, []));
  };
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
