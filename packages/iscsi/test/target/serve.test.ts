import { InvalidFieldError } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { parseListenAddress, parseLunSpec, parseSize } from '../../src/index.js';

describe('serve specs', () => {
  it('sizes with binary suffixes', () => {
    expect(parseSize('s', '65536')).toBe(65536n);
    expect(parseSize('s', '64M')).toBe(64n << 20n);
    expect(parseSize('s', '1g')).toBe(1n << 30n);
    expect(parseSize('s', '2TiB')).toBe(2n << 40n);
    expect(() => parseSize('s', '0')).toThrow(/more than 0 bytes/);
    expect(() => parseSize('s', '12Q')).toThrow(InvalidFieldError);
  });

  it('LUN specs: mem:SIZE and file:PATH with options', () => {
    expect(parseLunSpec('mem:64M', 0)).toEqual({
      lun: 0,
      backing: { kind: 'memory' },
      sizeBytes: 64n << 20n,
    });
    expect(parseLunSpec('mem:1G,bs=4096', 1)).toEqual({
      lun: 1,
      backing: { kind: 'memory' },
      sizeBytes: 1n << 30n,
      blockSize: 4096,
    });
    expect(parseLunSpec('file:/nonexistent/x.img,size=16M', 2)).toEqual({
      lun: 2,
      backing: { kind: 'file', path: '/nonexistent/x.img' },
      sizeBytes: 16n << 20n,
    });
    expect(parseLunSpec('file:/nonexistent/y.img', 3).sizeBytes).toBe(64n << 20n);
    expect(() => parseLunSpec('disk:1G', 0)).toThrow(/lun\[0\]: must be mem:SIZE or file:PATH/);
    expect(() => parseLunSpec('mem:1G,bs=1024', 0)).toThrow(/size=SIZE and bs=512\|4096/);
    expect(() => parseLunSpec('file:', 0)).toThrow(/needs a path/);
  });

  it('listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:13260')).toEqual({ host: '127.0.0.1', port: 13260 });
    expect(parseListenAddress('[::1]')).toEqual({ host: '::1', port: 3260 });
    expect(() => parseListenAddress('host:99999')).toThrow(InvalidFieldError);
  });
});
