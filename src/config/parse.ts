import { isIP, isIPv4 } from 'node:net';
import { ConfigError } from './error.js';

/**
 * One parser per kind of setting. Each refuses a bad value with a ConfigError naming the
 * variable, so the CLI can print "configuration problem: …" and exit 2 instead of starting with
 * a value that would fail later, deep inside a component, with a stack trace.
 */

export function str(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${name} must be a string in config/*.json`);
  return value;
}

/** A non-empty string without control characters (it ends up in logs, keys and headers). */
export function text(value: unknown, name: string, pattern?: RegExp, hint = ''): string {
  const got = str(value, name);
  // eslint-disable-next-line no-control-regex
  if (got.trim() === '' || /[\x00-\x1f\x7f]/.test(got) || (pattern && !pattern.test(got))) {
    throw new ConfigError(`${name} must be a non-empty string${hint ? ` ${hint}` : ''} without control characters, got ${JSON.stringify(value)}`);
  }
  return got;
}

export function int(value: unknown, name: string, min: number, max: number): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

export function bool(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1) ?? ''}, got ${JSON.stringify(value)}`);
}

export function list(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((item) => item.trim()).filter(Boolean);
}

/** An absolute URL whose scheme is one of `schemes` (e.g. `http:`). */
export function url(value: unknown, name: string, schemes: string[], example: string): string {
  const raw = str(value, name).trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !schemes.includes(parsed.protocol) || !parsed.hostname) {
    throw new ConfigError(
      `${name} must be a ${schemes.map((s) => s.replace(':', '')).join(' or ')} URL such as ${example}, got ${JSON.stringify(redactPassword(raw))}`,
    );
  }
  return raw;
}

/** At least one URL, each checked as `url` does. */
export function urls(value: unknown, name: string, schemes: string[], example: string): string[] {
  const items = list(value ?? '');
  if (items.length === 0) throw new ConfigError(`${name} must list at least one URL such as ${example}`);
  return items.map((item) => url(item, name, schemes, example));
}

/** `10.1.0.0/16`, `fd00::/8` or a bare address (/32 or /128): the forms the address guard takes. */
export function cidrs(value: unknown, name: string): string[] {
  return list(value).map((cidr) => {
    const [network = '', prefixText, extra] = cidr.split('/');
    const bits = isIPv4(network) ? 32 : 128;
    const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!isIP(network) || extra !== undefined || !(prefix <= bits)) {
      throw new ConfigError(
        `${name}: ${JSON.stringify(cidr)} is not a CIDR such as 10.1.0.0/16 or fd00::/8 (comma list; a bare address means just that address)`,
      );
    }
    return cidr;
  });
}

export function schedule(value: unknown, name: string): number[] {
  const seconds = Array.isArray(value)
    ? value
    : String(value)
        .split(',')
        .map((s) => s.trim());
  const delays = seconds.map((s) => (typeof s === 'number' ? s : s === '' ? NaN : Number(s)));
  if (delays.length === 0 || delays.some((d) => !Number.isFinite(d) || d < 0 || d > 30 * 86400)) {
    throw new ConfigError(`${name} must be a comma list of seconds (decimals allowed), e.g. 5,300,1800; got ${JSON.stringify(value)}`);
  }
  return delays.map((d) => Math.round(d * 1000));
}

/** A URL as it may be shown in an error: without its password. */
function redactPassword(raw: string): string {
  return raw.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
}

/**
 * A comma list of `announced=reachable` address pairs (each `host:port`), for a Redis Cluster whose
 * nodes announce addresses this process cannot reach (Docker, NAT): keyed by the announced one.
 */
export function natMap(value: unknown, name: string): Record<string, { host: string; port: number }> {
  const example = '10.0.1.5:6379=203.0.113.5:7001';
  return Object.fromEntries(
    list(value ?? '').map((pair) => {
      const [announced, reachable, extra] = pair.split('=');
      if (!announced || !reachable || extra !== undefined)
        throw new ConfigError(`${name}: ${JSON.stringify(pair)} is not announced=reachable such as ${example} (comma list)`);
      const [from] = hostPorts(announced, name, example);
      const [to] = hostPorts(reachable, name, example);
      return [`${from?.host}:${from?.port}`, to as { host: string; port: number }];
    }),
  );
}

/** A comma list of `host:port` (an IPv6 address in brackets: `[::1]:26379`), at least one. */
export function hostPorts(value: unknown, name: string, example: string): { host: string; port: number }[] {
  const items = list(value ?? '');
  if (items.length === 0) throw new ConfigError(`${name} must list at least one host:port such as ${example}`);
  return items.map((item) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
    const port = Number(match?.[3]);
    const host = match?.[1] ?? match?.[2];
    if (!host || !(port >= 1 && port <= 65535) || (match?.[1] !== undefined && isIP(host) !== 6)) {
      throw new ConfigError(`${name}: ${JSON.stringify(item)} is not a host:port such as ${example} (comma list)`);
    }
    return { host, port };
  });
}
