/**
 * Logs never carry a signing secret, a header value or a payload. Most log calls name only ids;
 * errors are the risk: ioredis puts the failed command's arguments on the error (`command.args`:
 * a receiver's config with its secret and headers, a message's payload), MULTI failures carry
 * `previousErrors` with theirs, undici errors carry response headers and bodies, and Node's JSON
 * errors quote the text they choked on. So an error is logged as a fixed set of safe fields only.
 */

/** Error properties kept as they are: they describe the failure, never the data. */
const SAFE_FIELDS = ['code', 'errno', 'syscall', 'address', 'port', 'statusCode'] as const;
const MAX_MESSAGE = 300;
const SIGNING_KEY = /\bwh(sec|sk|pk)_[A-Za-z0-9+/=_-]+/g;
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g;

export interface SafeError {
  type: string;
  message: string;
  stack?: string;
  command?: string;
  previousErrors?: SafeError[];
  cause?: SafeError;
  errors?: SafeError[];
  [field: string]: unknown;
}

export function serializeError(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const type = value.constructor?.name || value.name || 'Error';
  const message = scrub(value.message ?? '', type);
  const safe: SafeError = { type, message };
  if (value.stack) safe.stack = [`${type}: ${message}`, ...value.stack.split('\n').filter((line) => /^\s+at /.test(line))].join('\n');
  const fields = value as unknown as Record<string, unknown>;
  for (const name of SAFE_FIELDS) {
    const field = fields[name];
    if (typeof field === 'string' || typeof field === 'number') safe[name] = typeof field === 'string' ? field.slice(0, 100) : field;
  }
  const command = fields.command as { name?: unknown } | undefined;
  if (typeof command?.name === 'string') safe.command = command.name; // the command's name, never its args
  if (depth < 3) {
    if (Array.isArray(fields.previousErrors)) safe.previousErrors = fields.previousErrors.slice(0, 5).map((e) => serializeError(e, depth + 1) as SafeError);
    if (Array.isArray(fields.errors)) safe.errors = fields.errors.slice(0, 5).map((e) => serializeError(e, depth + 1) as SafeError);
    if (value.cause instanceof Error) safe.cause = serializeError(value.cause, depth + 1) as SafeError;
  }
  return safe;
}

/** A message without signing keys, without quoted input (JSON errors quote what they parsed), and short. */
function scrub(message: string, type: string): string {
  let text = message.replace(SIGNING_KEY, 'wh$1_[redacted]');
  if (type === 'SyntaxError' || /JSON/.test(text)) text = text.replace(QUOTED, '"[redacted]"');
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… [${text.length - MAX_MESSAGE} more characters]` : text;
}

/**
 * Fields no log line may show, whoever logs them: pino replaces their values. A second line of
 * defence behind the habit of logging ids only.
 */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  'headers',
  '*.headers',
  'payload',
  '*.payload',
  'payloadJson',
  '*.payloadJson',
  'body',
  '*.body',
  'config',
  '*.config',
  'args',
  '*.args',
  'responseBody',
  '*.responseBody',
  'responseHeaders',
  '*.responseHeaders',
  'req.headers',
  'res.headers',
];
