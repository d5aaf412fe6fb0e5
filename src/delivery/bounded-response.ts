import type { IncomingHttpHeaders } from 'node:http';

// What is kept of a receiver's answer: bounded, so a hostile or broken receiver costs little memory.

/** A body this much longer than what is kept is read and dropped so its connection can be reused; longer ones are cut. */
const DRAIN_BYTES = 64 * 1024;

/**
 * The first `maxBytes` of a response body; the rest is only counted. A remainder up to DRAIN_BYTES
 * past what is kept is read and dropped so the connection goes back to the pool; anything longer
 * is cut off, which closes the connection (cheaper than reading megabytes a receiver should not
 * have sent).
 */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private keptBytes = 0;
  private seenBytes = 0;

  constructor(readonly maxBytes: number) {}

  /** Keeps what fits; false once the body is past the drain limit and should be cut off. */
  add(chunk: Buffer): boolean {
    this.seenBytes += chunk.length;
    if (this.keptBytes < this.maxBytes) {
      const part = chunk.subarray(0, this.maxBytes - this.keptBytes);
      this.chunks.push(part);
      this.keptBytes += part.length;
    }
    return this.seenBytes <= this.maxBytes + DRAIN_BYTES;
  }

  text(): string {
    if (this.chunks.length === 0) return '';
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer).toString('utf8') : Buffer.concat(this.chunks).toString('utf8');
  }
}

export function boundedHeaders(headers: IncomingHttpHeaders, maxBytes: number): Record<string, string> {
  const kept: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
    if (size + name.length + text.length > maxBytes) continue; // a huge header must not crowd out the small ones after it
    size += name.length + text.length;
    kept[name] = text;
  }
  return kept;
}

/** `Retry-After` as milliseconds from now: delay-seconds (a decimal tolerated) or an HTTP-date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) ? Math.round(ms) : null;
  }
  // Date.parse takes almost anything ("1", "2024"); an HTTP-date starts with a day name.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i.test(text)) return null;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
