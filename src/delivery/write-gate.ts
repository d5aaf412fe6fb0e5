import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';

/** A request about to be written. */
export interface GatedWrite {
  /** Its last word before its bytes go into the socket: a reason to send nothing, or null. */
  atWrite(): string | null;
}

type Chunks = Parameters<NonNullable<Socket['_writev']>>[0];
type Done = (error?: Error | null) => void;

/**
 * The lock's last check, moved down to the socket. undici tells a request's handler that it is
 * about to write (Exchange.onRequestStart, which checks the lock), then builds the request head
 * and writes it, all in one synchronous step: a process frozen inside that step (SIGSTOP, a VM
 * pause) would write on waking, past its deadline, with its old fence. The handler arms the gate
 * with itself; the next write of a socket this client opened, in that same step, runs the check
 * again a few calls short of the `write` system call and refuses to write: the stream errs, undici
 * drops the connection, and the exchange has already ended as aborted. The gate is disarmed once
 * the step is over (a microtask), so a write the stream defers (an earlier one still under way)
 * is not checked here, only at onRequestStart.
 */
export class WriteGate {
  private armed: GatedWrite | undefined;
  private readonly disarm = (): void => {
    this.armed = undefined;
  };

  /** `write.atWrite` runs at the next socket write of the current synchronous step, if there is one. */
  arm(write: GatedWrite): void {
    this.armed = write;
    queueMicrotask(this.disarm);
  }

  /** `connect` with every socket it opens gated. */
  connector(connect: buildConnector.connector): buildConnector.connector {
    return (options, callback) =>
      connect(options, (...args) => {
        if (args[1]) this.gate(args[1]);
        callback(...args);
      });
  }

  private gate(socket: Socket): void {
    const write = socket._write.bind(socket);
    const writev = socket._writev?.bind(socket);
    socket._write = (chunk: unknown, encoding: BufferEncoding, done: Done) => this.passes(done) && write(chunk, encoding, done);
    if (writev) socket._writev = (chunks: Chunks, done: Done) => this.passes(done) && writev(chunks, done);
  }

  /** Runs the armed check, if any: true to write; false after failing the write with its reason. */
  private passes(done: Done): boolean {
    const write = this.armed;
    this.armed = undefined;
    const refused = write?.atWrite();
    if (refused) done(new Error(refused));
    return !refused;
  }
}
