import { badField } from '../errors.js';

/**
 * How deep a payload may nest. JSON.stringify recurses and runs out of stack near 5,000 levels
 * (a 500), and receivers' parsers refuse far less (Ruby's JSON: 100, serde_json: 128), so a deeper
 * payload could never be delivered anyway. 64 leaves room for the envelope around `data`.
 */
export const MAX_PAYLOAD_DEPTH = 64;

export const tooDeep = (field: string) =>
  badField(field, `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels (objects and arrays inside each other); receivers could not parse it`, 422);

/** Refuses a payload nested deeper than the limit; iterative, so a hostile depth cannot overflow the stack here either. */
export function checkPayloadDepth(payload: unknown, field: string): void {
  const stack: [value: unknown, depth: number][] = [[payload, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') continue;
    if (depth + 1 > MAX_PAYLOAD_DEPTH) throw tooDeep(field);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}
