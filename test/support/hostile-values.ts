import fc from 'fast-check';

/** Hostile values for the API fuzz test (test/api/fuzz.test.ts): junk of every kind a client could send. */

export const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\r\n',
    '../../etc/passwd',
    '<script>',
    '%00',
    'rcv_',
    'msg_',
    '__proto__',
    'constructor',
    '😀'.repeat(50),
    '\u202e\u200b',
  ),
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 70_000 }).map((n) => 'x'.repeat(n)) },
);
export const deep = fc
  .tuple(fc.integer({ min: 65, max: 120_000 }), fc.boolean())
  .map(([depth, array]) => (array ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`));
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  text,
  fc.anything({ maxDepth: 3 }),
  fc.constantFrom(null, true, -1, 1e308, [], {}, [[[]]]),
);
/** A JSON text that is a junk value, a junk object with unknown fields, or not JSON at all. */
export const junkJson = fc.oneof(
  junk.map((value) => JSON.stringify(value) ?? 'null'),
  deep,
  fc.constantFrom('{', '{"url":', '[1,2', '\u00ff\u00fe', 'eventType=a', '{"a":1}}'),
);
/** An object with some known fields set to junk and at least one field no route knows. */
export const withUnknownField = (known: string[]) =>
  fc
    .tuple(
      fc.dictionary(fc.constantFrom(...known), junk, { maxKeys: 4 }),
      fc.string({ minLength: 1, maxLength: 20 }).filter((key) => !known.includes(key) && key !== '__proto__'),
      junk,
    )
    .map(([fields, unknown, value]) => JSON.stringify({ ...fields, [unknown]: value }));
export const badHeaderValue = fc
  .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\r', '\n', '\u0000', '\u0001', '\u007f', '\u0100', '\u2028', '😀'), fc.string({ maxLength: 10 }))
  .map((parts) => parts.join(''));
export const badId = fc.oneof(
  text,
  fc.stringMatching(/^(rcv|msg)_[0-9a-z]{26}$/),
  fc.constantFrom('rcv_0000000000000000000000000a', 'msg_0000000000000000000000000a', '%2e%2e', '..', '%00'),
);
export const encode = (id: string): string => encodeURIComponent(id) || '%20';
