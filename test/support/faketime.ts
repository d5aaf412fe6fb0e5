import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's libfaketime (package `faketime`), the multi-threaded build node needs. */
export const LIBFAKETIME = process.env.LOCKSTEP_LIBFAKETIME ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export function faketimeAvailable(): boolean {
  return existsSync(LIBFAKETIME);
}

/**
 * One process's wall clock, steppable at run time: the process starts with `env()` (libfaketime
 * preloaded, reading its offset from a file of its own on every call), and `set()` rewrites the
 * file. Only the wall clock moves (`Date.now()`, `new Date()`); the monotonic clock
 * (`performance.now()`, timers) is left alone, exactly as an NTP step or a VM resume leaves it.
 */
export class SteppableClock {
  private readonly dir = mkdtempSync(join(tmpdir(), 'lockstep-clock-'));
  private readonly file = join(this.dir, 'offset');
  /** The offset now, in seconds from the real wall clock. */
  offsetS = 0;

  constructor() {
    this.write();
  }

  env(): Record<string, string> {
    if (!faketimeAvailable()) throw new Error(`libfaketime not found at ${LIBFAKETIME}: apt-get install -y faketime`);
    // NO_CACHE: the file is read on every call, so a step takes effect at once, not within 10 s
    return { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: this.file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }

  /** Sets the offset to `offsetS` seconds (a step of `offsetS − previous`). */
  set(offsetS: number): void {
    this.offsetS = offsetS;
    this.write();
  }

  step(byS: number): void {
    this.set(this.offsetS + byS);
  }

  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(): void {
    // libfaketime's relative format: "+120s", "-120s", "+0"
    writeFileSync(this.file, this.offsetS === 0 ? '+0\n' : `${this.offsetS > 0 ? '+' : ''}${this.offsetS}s\n`);
  }
}
