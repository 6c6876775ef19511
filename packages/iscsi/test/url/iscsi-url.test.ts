import { InvalidFieldError } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { ChapAlgorithm, formatIscsiUrl, parseIscsiPortalUrl, parseIscsiUrl } from '../../src/index.js';

describe('libiscsi URLs (lib/init.c iscsi_parse_url)', () => {
  it('parses the full form', () => {
    expect(parseIscsiUrl('iscsi://127.0.0.1:13260/iqn.2026-11.test:disk1/1')).toEqual({
      host: '127.0.0.1',
      port: 13260,
      targetName: 'iqn.2026-11.test:disk1',
      lun: 1,
    });
    expect(parseIscsiUrl('iscsi://host/iqn.x:y/0').port).toBe(3260);
    expect(parseIscsiUrl('iscsi://host/iqn.x:a@b/0')).toMatchObject({
      host: 'host',
      targetName: 'iqn.x:a@b',
    });
  });

  it('credentials: user%password, user:password, mutual CHAP arguments', () => {
    const u = parseIscsiUrl(
      'iscsi://alice%s3cret:x@[::1]:3261/iqn.2026-11.test%3Adisk/2?header_digest=crc32c&data_digest=none&auth=sha-256&target_user=tgt&target_password=pw',
    );
    expect(u).toEqual({
      host: '::1',
      port: 3261,
      targetName: 'iqn.2026-11.test:disk',
      lun: 2,
      credentials: { username: 'alice', secret: 's3cret:x' },
      targetCredentials: { username: 'tgt', secret: 'pw' },
      headerDigest: 'CRC32C',
      dataDigest: 'None',
      chapAlgorithm: ChapAlgorithm.SHA256,
    });
    expect(parseIscsiUrl('iscsi://bob:pw@h/iqn.a:b/0').credentials).toEqual({
      username: 'bob',
      secret: 'pw',
    });
    // As libiscsi: no CHAP without a password, no mutual CHAP without one-way CHAP.
    expect(parseIscsiUrl('iscsi://bob@h/iqn.a:b/0').credentials).toBeUndefined();
    expect(
      parseIscsiUrl('iscsi://h/iqn.a:b/0?target_user=t&target_password=p').targetCredentials,
    ).toBeUndefined();
  });

  it('takes LIBISCSI_CHAP_* from an environment when asked', () => {
    const env = {
      LIBISCSI_CHAP_USERNAME: 'u',
      LIBISCSI_CHAP_PASSWORD: 'p',
      LIBISCSI_CHAP_TARGET_USERNAME: 'tu',
      LIBISCSI_CHAP_TARGET_PASSWORD: 'tp',
    };
    expect(parseIscsiUrl('iscsi://h/iqn.a:b/0', { env })).toMatchObject({
      credentials: { username: 'u', secret: 'p' },
      targetCredentials: { username: 'tu', secret: 'tp' },
    });
    expect(parseIscsiUrl('iscsi://h/iqn.a:b/0').credentials).toBeUndefined();
  });

  it('portal URLs for discovery', () => {
    expect(parseIscsiPortalUrl('iscsi://127.0.0.1:13261')).toEqual({ host: '127.0.0.1', port: 13261 });
    expect(parseIscsiPortalUrl('iscsi://u%p@127.0.0.1/')).toMatchObject({
      host: '127.0.0.1',
      credentials: { username: 'u' },
    });
  });

  it('names what is wrong, with the credentials masked', () => {
    const cases: [string, RegExp][] = [
      ['http://h/iqn/1', /must be of the form iscsi:\/\//],
      ['iser://h/iqn/1', /iSER/],
      ['iscsi://h/iqn.a:b', /needs \/<target-iqn>\/<lun>/],
      ['iscsi://h/iqn.a:b/x1', /<lun> must be a non-negative decimal integer/],
      ['iscsi://h:0/iqn.a:b/1', /port must be an integer in 1..65535/],
      ['iscsi://h/iqn.a:b/1?header_digest=md5', /header_digest must be crc32c or none/],
      ['iscsi://h/iqn.a:b/1?auth=md4', /auth must be one of md5, sha1, sha-256, sha3-256/],
      ['iscsi://h/iqn.a:b/1?foo=1', /unknown argument "foo"/],
      ['iscsi://[::1/iqn.a:b/1', /closed with \]/],
      ['iscsi:///iqn.a:b/1', /needs a host/],
    ];
    for (const [url, rule] of cases) {
      expect(() => parseIscsiUrl(url)).toThrow(rule);
    }
    const error = (() => {
      try {
        parseIscsiUrl('iscsi://alice%secret@h/iqn.a:b/x');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect((error as InvalidFieldError).message).toContain('<credentials>@h');
    expect((error as InvalidFieldError).message).not.toContain('secret');
  });

  it('formats without credentials', () => {
    expect(formatIscsiUrl(parseIscsiUrl('iscsi://a%b@[::1]:3261/iqn.2026-11.test:disk1/3'))).toBe(
      'iscsi://[::1]:3261/iqn.2026-11.test:disk1/3',
    );
  });
});
