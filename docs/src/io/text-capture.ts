/**
 * A writable stream that keeps what is written to it, for running the CLI in-process and
 * reading its output (the CLI reference generator and the console doc-tests).
 * @module
 */
import { Writable } from 'node:stream';

/** A stream to hand the CLI as stdout or stderr, and the text written to it so far. */
export interface TextCapture {
  readonly stream: Writable;
  text(): string;
}

/** A new, empty {@link TextCapture}. */
export function textCapture(): TextCapture {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
