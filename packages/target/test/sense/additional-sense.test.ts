/**
 * Every (ASC, ASCQ) the target reports is named after its T10 text: the names are checked
 * against the core's table (sg3_utils' transcription of T10 asc-num.txt), so a wrong code
 * cannot hide behind a right-looking name.
 */
import { lookupAscAscq } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { Asc } from '../../src/sense/additional-sense.js';

const normalize = (text: string): string =>
  text
    .toUpperCase()
    .replace(/[^A-Z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');

describe('additional sense codes', () => {
  it.each(Object.entries(Asc))('%s matches the T10 text of its code', (name, code) => {
    const text = lookupAscAscq(code.asc, code.ascq);
    expect(text).toBeDefined();
    expect(normalize(text ?? '')).toBe(name);
  });
});
