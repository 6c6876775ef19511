/**
 * The progress bar of a long `sgv4 dd` on a terminal: nothing for the first two seconds (short
 * runs stay quiet), then one line redrawn four times a second, erased at the end.
 */
import type { Writable } from 'node:stream';

/** What the bar shows. */
export interface ProgressSource {
  /** Bytes copied so far. */
  readonly bytes: number;
  /** Bytes to copy. */
  readonly total: number;
  /** Transfers done so far. */
  readonly transfers: number;
}

const DELAY_MS = 2000;
const PERIOD_MS = 250;
const WIDTH = 30;

/** Starts the bar on `stream` when it is a terminal; returns the function that stops and erases it. */
export function startProgress(stream: Writable, source: ProgressSource, started: number): () => void {
  if ((stream as { isTTY?: boolean }).isTTY !== true) return () => {};
  let drawn = false;
  const draw = () => {
    const seconds = (performance.now() - started) / 1000;
    const fraction = source.total > 0 ? Math.min(1, source.bytes / source.total) : 0;
    const filled = Math.round(fraction * WIDTH);
    const rate = source.bytes / 1e6 / seconds;
    const iops = source.transfers / seconds;
    const eta = rate > 0 ? (source.total - source.bytes) / 1e6 / rate : 0;
    stream.write(
      `\r[${'='.repeat(filled)}${filled < WIDTH ? '>' : ''}${' '.repeat(Math.max(0, WIDTH - filled - 1))}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${rate.toFixed(1)} MB/s  ${iops.toFixed(0)} IOPS  ETA ${eta.toFixed(0)}s\x1b[K`,
    );
    drawn = true;
  };
  let interval: ReturnType<typeof setInterval> | undefined;
  const delay = setTimeout(() => {
    draw();
    interval = setInterval(draw, PERIOD_MS);
    interval.unref();
  }, DELAY_MS);
  delay.unref();
  return () => {
    clearTimeout(delay);
    if (interval !== undefined) clearInterval(interval);
    if (drawn) stream.write('\r\x1b[K');
  };
}
