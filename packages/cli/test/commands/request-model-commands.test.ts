import { describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

const QUERY_HEADER_HEX = `51000000${'00'.repeat(84)}88130000${'00'.repeat(68)}`;

describe('sgv4 header', () => {
  it('encodes JSON fields into 160 bytes and decodes them back', async () => {
    const enc = await runCaptured([
      'header',
      'encode',
      '--format',
      'v4',
      '{"timeout":5000,"usrPtr":"0x1234","dinResid":-4}',
    ]);
    expect(enc.status).toBe(0);
    const hex = enc.stdout.trim();
    expect(hex).toHaveLength(320);
    expect(hex.slice(0, 8)).toBe('51000000');
    const dec = await runCaptured(['header', 'decode', hex, '--json']);
    expect(dec.status).toBe(0);
    const doc = JSON.parse(dec.stdout) as { format: string; size: number; fields: Record<string, unknown> };
    expect(doc.format).toBe('v4');
    expect(doc.fields).toMatchObject({ guard: 81, timeout: 5000, usrPtr: '4660', dinResid: -4 });
    const text = await runCaptured(['header', 'decode', QUERY_HEADER_HEX]);
    expect(text.stdout).toMatch(/^88\s+timeout\s+5000$/m);
  });

  it('rejects bad input with a field-naming message and exit status 1', async () => {
    const short = await runCaptured(['header', 'decode', '5100']);
    expect([short.status, short.stderr]).toEqual([1, expect.stringContaining('160 bytes, got 2')]);
    const badField = await runCaptured(['header', 'encode', '{"timeoutt":1}']);
    expect(badField.status).toBe(1);
    expect(badField.stderr).toContain('timeoutt: is not a struct sg_io_v4 field');
    const range = await runCaptured(['header', 'encode', '{"timeout":-1}']);
    expect(range.stderr).toContain('timeout: must be an integer in 0..4294967295');
    const format = await runCaptured(['header', 'decode', '--format', 'v3', QUERY_HEADER_HEX]);
    expect(format.status).toBe(1);
  });
});

describe('sgv4 sense', () => {
  it('prints one sg3_utils-style line', async () => {
    const r = await runCaptured(['sense', 'f0 00 03 00 00 12 34 0a 00 00 00 00 11 00 00 00 00 00']);
    expect(r).toEqual({
      status: 0,
      stdout: 'Medium Error: Unrecovered read error, lba 0x1234\n',
      stderr: '',
    });
  });
  it('prints fields with --json', async () => {
    const r = await runCaptured(['sense', '72', '05', '20', '00', '00', '00', '00', '00', '--json']);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      format: 'descriptor',
      senseKey: 5,
      asc: 0x20,
      ascText: 'Invalid command operation code',
    });
    expect(doc.line).toBe('Illegal Request: Invalid command operation code');
  });
  it('exits 97 for data that is not sense', async () => {
    const r = await runCaptured(['sense', '7f', '00']);
    expect(r.status).toBe(97);
    expect(r.stderr).toContain('response code 0x7f');
  });
});

describe('sgv4 cdb', () => {
  it('builds from field options and decodes the result', async () => {
    const b = await runCaptured([
      'cdb',
      'build',
      'read10',
      '--lba',
      '0x1234',
      '--transfer-length',
      '8',
      '--fua',
      '1',
    ]);
    expect(b).toEqual({ status: 0, stdout: '28080000123400000800\n', stderr: '' });
    const d = await runCaptured(['cdb', '28080000123400000800']);
    expect(d.stdout).toContain('READ(10) (10 bytes, data in)');
    expect(d.stdout).toMatch(/lba\s+0x1234\s+byte 2 width 32/);
    const j = await runCaptured(['cdb', '9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({
      command: 'read-capacity16',
      direction: 'in',
      fields: { serviceAction: 16, allocationLength: 32, lba: '0' },
    });
  });
  it('rejects fields the command does not have, and unknown opcodes', async () => {
    const b = await runCaptured(['cdb', 'build', 'tur', '--lba', '1']);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain('TEST UNIT READY.lba: is not a field of TEST UNIT READY');
    const u = await runCaptured(['cdb', 'c0 00 00 00 00 00']);
    expect(u.status).toBe(97);
    const v = await runCaptured(['cdb', 'build', 'read6', '--lba', '0x200000']);
    expect(v.stderr).toContain('READ(6).lba: must be an integer in 0..2097151');
  });
});
