/**
 * The ring's TypeScript layout mirror (src/ring-layout.ts) against the addon's
 * ring_layout.h (reported by `ringLayout()`), and the ring options the wrapper and the
 * addon refuse before anything is opened.
 */
import { InvalidFieldError, OsError } from '@sgv4/core';
import { loadAddon, openRing } from '@sgv4/native';
import { describe, expect, it } from 'vitest';
import { RING } from '../src/ring-layout.js';

describe('ring layout', () => {
  it('every constant the addon reports equals the TypeScript mirror', () => {
    const native = loadAddon().ringLayout();
    expect(Object.keys(native).length).toBeGreaterThan(20);
    for (const [name, value] of Object.entries(native)) {
      expect({ name, value: (RING as Record<string, number>)[name] }).toEqual({ name, value });
    }
  });
});

describe('openRing refuses', () => {
  it.each([
    [{ entries: 6 }, 'options.entries'],
    [{ entries: 2 }, 'options.entries'],
    [{ queueDepth: 0 }, 'options.queueDepth'],
    [{ queueDepth: 32, entries: 16 }, 'options.queueDepth'],
    [{ producers: 33 }, 'options.producers'],
    [{ bufferSize: 2 ** 29 }, 'options.bufferSize'],
    [{ bufferCount: 65536, bufferSize: 65536 }, 'options.bufferCount'],
    [{ completionBatch: 0 }, 'options.completionBatch'],
    [{ queueDepth: 4, entries: 8, completionBatch: 16 }, 'options.completionBatch'],
    [{ sgThreads: 'yes' as unknown as boolean }, 'options.sgThreads'],
  ])('%o (field %s)', (options, field) => {
    expect(() => openRing('/dev/null', options)).toThrow(InvalidFieldError);
    expect(() => openRing('/dev/null', options)).toThrow(expect.objectContaining({ field }));
  });

  it('a node that is neither sg nor bsg, and a missing one', () => {
    expect(() => openRing('/dev/null')).toThrow(expect.objectContaining({ field: 'path' }));
    expect(() => openRing('/nonexistent/sg0')).toThrow(OsError);
    expect(() => openRing('/nonexistent/sg0')).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'stat' }),
    );
  });
});
