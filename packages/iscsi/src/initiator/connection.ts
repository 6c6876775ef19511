/**
 * One TCP connection of a session: PDUs out (encoded, written as one corked batch so a PDU's
 * header and data leave in one writev) and PDUs in (the streaming reader), and one end.
 * @module
 */
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { AbortedError, OsError, TimeoutError } from '@sgv4/core';
import type { PduKind } from '../pdu/bhs-layouts.js';
import {
  type AnyOutgoingPdu,
  type AnyPdu,
  type DataPlacement,
  type DigestSettings,
  encodePdu,
  NO_DIGESTS,
  PduReader,
} from '../pdu/pdu-codec.js';
import { formatPortal } from '../url/iscsi-url.js';

/** Largest data segment during login (RFC 7143 §13.12: the default MaxRecvDataSegmentLength, 8192, applies until login completes). */
export const LOGIN_MAX_DATA_SEGMENT_LENGTH = 8192;

/** Size of the one buffer socket reads land in. */
const RECEIVE_BUFFER_BYTES = 256 * 1024;

/** Where the socket's reads go once the connection object exists. */
interface ReceiveSink {
  sink: ((chunk: Uint8Array) => void) | undefined;
}

/** Options of {@link IscsiConnection.connect}. */
export interface ConnectOptions {
  /** Host name or address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Give up connecting after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Cancels the attempt. */
  readonly signal?: AbortSignal;
}

/** Why a connection ended: a socket error, the peer closing, or our own decision (with its error). */
export interface ConnectionEnd {
  /** The error that ended it (undefined for an orderly local close). */
  readonly error: Error | undefined;
  /** One line for messages, e.g. `connection reset by peer (ECONNRESET)`. */
  readonly reason: string;
}

function describeSocketError(error: Error & { code?: string }): string {
  return error.code ? `${error.message.replace(/^\w+ /, '')} (${error.code})` : error.message;
}

/** See the module note. Handlers are set by the owner (login first, then the session). */
export class IscsiConnection {
  /** `host:port`. */
  readonly portal: string;
  readonly #socket: Socket;
  readonly #reader: PduReader;
  #sendDigests: DigestSettings = NO_DIGESTS;
  #ended: ConnectionEnd | undefined;
  #onPdu: (pdu: AnyPdu) => void = () => {};
  #onEnd: (end: ConnectionEnd) => void = () => {};
  #placeData: ((kind: PduKind, header: Uint8Array) => DataPlacement | undefined) | undefined;

  private constructor(socket: Socket, portal: string, receive: ReceiveSink) {
    this.#socket = socket;
    this.portal = portal;
    this.#reader = new PduReader({
      from: 'target',
      maxDataSegmentLength: LOGIN_MAX_DATA_SEGMENT_LENGTH,
      placeData: (kind, header) => this.#placeData?.(kind, header),
    });
    socket.setNoDelay(true);
    receive.sink = (chunk) => {
      if (this.#ended) return;
      try {
        this.#reader.push(chunk, (pdu) => {
          if (!this.#ended) this.#onPdu(pdu);
        });
      } catch (error) {
        this.fail(error as Error, (error as Error).message);
      }
    };
    socket.on('error', (error: Error & { code?: string }) => this.fail(error, describeSocketError(error)));
    socket.on('close', () => this.fail(undefined, 'closed by the target'));
    socket.on('end', () => this.fail(undefined, 'closed by the target'));
  }

  /** Opens a TCP connection. OsError (errno, code) when it fails, TimeoutError, AbortedError. */
  static connect(options: ConnectOptions): Promise<IscsiConnection> {
    const portal = formatPortal(options.host, options.port);
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const receive: ReceiveSink = { sink: undefined };
      // Reads land in one reused buffer (no allocation per read): the PDU reader copies every
      // byte out (headers into its own buffer, data into the caller's or a fresh one).
      // (Node accepts `onread` in the Socket constructor since v12; its types list it only for connect().)
      const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
        onread: {
          buffer: Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES),
          callback: (n: number, buffer: Uint8Array) => {
            receive.sink?.(buffer.subarray(0, n));
            return true;
          },
        },
      };
      const socket = new Socket(socketOptions);
      const done = (error?: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve(new IscsiConnection(socket, portal, receive));
      };
      const onError = (error: Error) => {
        const os = OsError.fromNodeError(error, 'connect');
        done(os ? new OsError(os.errno, os.code, 'connect', portal, { cause: error }) : error);
      };
      const onAbort = () => done(new AbortedError(`connect to ${portal}`, options.signal?.reason));
      const timer = setTimeout(() => done(new TimeoutError(`connect to ${portal}`, timeoutMs)), timeoutMs);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.connect({ host: options.host, port: options.port }, () => done());
    });
  }

  /** Receives every PDU from now on (until the connection ends). */
  set onPdu(handler: (pdu: AnyPdu) => void) {
    this.#onPdu = handler;
  }

  /** Called once when the connection ends, for whatever reason. */
  set onEnd(handler: (end: ConnectionEnd) => void) {
    this.#onEnd = handler;
    if (this.#ended) queueMicrotask(() => handler(this.#ended!));
  }

  /** Lets Data-In land in the caller's buffers (see PduReaderOptions.placeData). */
  set placeData(handler: (kind: PduKind, header: Uint8Array) => DataPlacement | undefined) {
    this.#placeData = handler;
  }

  /** Switches digests in both directions (from the first PDU after the final Login Response, RFC 7143 §13.1). */
  setDigests(digests: DigestSettings): void {
    this.#sendDigests = digests;
    this.#reader.digests = digests;
  }

  /** Stops delivering PDUs after the current one (see PduReader.pause); the socket stops reading too. */
  pauseReading(): void {
    this.#reader.pause();
    this.#socket.pause();
  }

  /** Delivers what arrived while paused, to the current handler, and reads on. */
  resumeReading(): void {
    if (this.#ended) return;
    this.#socket.resume();
    try {
      this.#reader.resume((pdu) => {
        if (!this.#ended) this.#onPdu(pdu);
      });
    } catch (error) {
      this.fail(error as Error, (error as Error).message);
    }
  }

  /** Raises the largest data segment accepted to our declared MaxRecvDataSegmentLength. */
  setMaxRecvDataSegmentLength(length: number): void {
    this.#reader.maxDataSegmentLength = length;
  }

  /** True once ended. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** The end, once ended. */
  get end(): ConnectionEnd | undefined {
    return this.#ended;
  }

  /** Encodes and writes PDUs back to back (one corked batch). Ignored after the end. */
  send(...pdus: AnyOutgoingPdu[]): void {
    if (this.#ended) return;
    const s = this.#socket;
    s.cork();
    for (const pdu of pdus) for (const chunk of encodePdu(pdu, this.#sendDigests)) s.write(chunk);
    process.nextTick(() => s.uncork());
  }

  /** Bytes queued in the socket and not yet handed to the kernel. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Ends the connection because of `error` (or orderly, when undefined); the end handler runs once. */
  fail(error: Error | undefined, reason: string): void {
    if (this.#ended) return;
    this.#ended = { error, reason };
    this.#socket.destroy();
    this.#onEnd(this.#ended);
  }

  /** Closes the connection (orderly, from our side). */
  close(reason = 'closed by the initiator'): void {
    this.fail(undefined, reason);
  }

  /** Lets the process exit while only this connection is open (`unref()` as node-usb does). */
  unref(): void {
    this.#socket.unref();
  }

  /** Undoes {@link unref}. */
  ref(): void {
    this.#socket.ref();
  }
}
