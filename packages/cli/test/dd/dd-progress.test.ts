import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startProgress } from '../../src/dd/progress.js';

function terminal(isTTY: boolean): Writable & { text: string; isTTY: boolean } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _e, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { text: string; isTTY: boolean };
  stream.isTTY = isTTY;
  Object.defineProperty(stream, 'text', { get: () => chunks.join('') });
  return stream;
}

describe('sgv4 dd progress bar', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays quiet for the first two seconds, then redraws one line, and erases it at the end', () => {
    vi.useFakeTimers();
    const out = terminal(true);
    const source = { bytes: 0, total: 100e6, transfers: 0 };
    const stop = startProgress(out, source, performance.now());
    vi.advanceTimersByTime(1900);
    expect(out.text).toBe('');
    source.bytes = 50e6;
    source.transfers = 400;
    vi.advanceTimersByTime(200);
    const ERASE = '\x1b[K';
    expect(out.text.endsWith(ERASE)).toBe(true);
    expect(out.text.slice(0, -ERASE.length)).toMatch(/^\r\[=+>? *\] +50% +[\d.]+ MB\/s +\d+ IOPS +ETA \d+s$/);
    vi.advanceTimersByTime(1000);
    expect(out.text.split('\r').length).toBeGreaterThan(3);
    stop();
    expect(out.text.endsWith('\r\x1b[K')).toBe(true);
  });

  it('never draws when stderr is not a terminal, and a short run prints nothing', () => {
    vi.useFakeTimers();
    const pipe = terminal(false);
    startProgress(pipe, { bytes: 1, total: 2, transfers: 1 }, performance.now())();
    vi.advanceTimersByTime(5000);
    expect(pipe.text).toBe('');
    const tty = terminal(true);
    const stop = startProgress(tty, { bytes: 1, total: 2, transfers: 1 }, performance.now());
    vi.advanceTimersByTime(1000);
    stop();
    vi.advanceTimersByTime(5000);
    expect(tty.text).toBe('');
  });
});
