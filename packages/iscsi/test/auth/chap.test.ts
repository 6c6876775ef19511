import { describe, expect, it } from 'vitest';
import {
  ChapAlgorithm,
  ChapInitiator,
  chapResponse,
  decodeBinaryValue,
  encodeBinaryValue,
  IscsiProtocolError,
} from '../../src/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const challenge16 = Uint8Array.from({ length: 16 }, (_, i) => i);
const challenge32 = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('CHAP responses (RFC 1994 §4.1 over RFC 7143 §12.1.3)', () => {
  // Golden values computed independently with Python's hashlib: H(id || secret || challenge).
  it('MD5, SHA-1, SHA-256 and SHA3-256', () => {
    expect(hex(chapResponse(ChapAlgorithm.MD5, 0x2a, 'iscsi-secret-1', challenge16))).toBe(
      '87d6c675fe7430a9492e316e718f5e7d',
    );
    expect(hex(chapResponse(ChapAlgorithm.SHA256, 7, 'iscsi-secret-1', challenge32))).toBe(
      '56efc18c59e36557f6d3ceeae084764f08f41c2d954b16925262674588725b60',
    );
    expect(hex(chapResponse(ChapAlgorithm.SHA3_256, 7, 'iscsi-secret-1', challenge32))).toBe(
      '3389014494bdee3d78fc2b3297d60cb81fbc1ec95dc9dae9ad9cf9d03309f34b',
    );
    expect(hex(chapResponse(ChapAlgorithm.SHA1, 255, '', Uint8Array.of(1, 2, 3)))).toBe(
      '73e649ec7c5e643146c1719afd4384f021886224',
    );
  });

  it('binary values in hex and base64 (RFC 7143 §6.1)', () => {
    expect(encodeBinaryValue(Uint8Array.of(0xde, 0xad))).toBe('0xdead');
    expect(encodeBinaryValue(Uint8Array.of(0xde, 0xad), 'base64')).toBe('0b3q0=');
    expect(hex(decodeBinaryValue('0XDEAD', 'CHAP_C'))).toBe('dead');
    expect(hex(decodeBinaryValue('0b3q0=', 'CHAP_C'))).toBe('dead');
    expect(hex(decodeBinaryValue('0xabc', 'CHAP_C'))).toBe('0abc');
    expect(() => decodeBinaryValue('dead', 'CHAP_C')).toThrow(/CHAP_C=dead: must be a binary value/);
  });
});

describe('ChapInitiator', () => {
  const credentials = { username: 'alice', secret: 'alice-secret-12' };
  const targetCredentials = { username: 'target', secret: 'target-secret-12' };

  it('one-way: offers CHAP_A, answers the challenge with CHAP_N/CHAP_R', () => {
    const chap = new ChapInitiator({ credentials });
    expect(chap.offer()).toEqual([['CHAP_A', '5']]);
    const answer = chap.answer(
      new Map([
        ['CHAP_A', '5'],
        ['CHAP_I', '42'],
        ['CHAP_C', encodeBinaryValue(challenge16)],
      ]),
    );
    expect(answer).toEqual([
      ['CHAP_N', 'alice'],
      ['CHAP_R', encodeBinaryValue(chapResponse(5, 42, 'alice-secret-12', challenge16))],
    ]);
  });

  it('mutual: sends its own challenge and checks the target proof', () => {
    const ours = Uint8Array.from({ length: 16 }, () => 0x5a);
    const chap = new ChapInitiator({ credentials, targetCredentials, challenge: () => ours, identifier: 9 });
    const answer = new Map(
      chap.answer(
        new Map([
          ['CHAP_A', '5'],
          ['CHAP_I', '1'],
          ['CHAP_C', encodeBinaryValue(challenge16)],
        ]),
      ),
    );
    expect(answer.get('CHAP_I')).toBe('9');
    expect(answer.get('CHAP_C')).toBe(encodeBinaryValue(ours));
    const proof = encodeBinaryValue(chapResponse(5, 9, targetCredentials.secret, ours));
    expect(() =>
      chap.verifyTarget(
        new Map([
          ['CHAP_N', 'target'],
          ['CHAP_R', proof],
        ]),
      ),
    ).not.toThrow();
    expect(() =>
      chap.verifyTarget(
        new Map([
          ['CHAP_N', 'target'],
          ['CHAP_R', '0x00'],
        ]),
      ),
    ).toThrow(/does not know the secret/);
    expect(() =>
      chap.verifyTarget(
        new Map([
          ['CHAP_N', 'mallory'],
          ['CHAP_R', proof],
        ]),
      ),
    ).toThrow(/CHAP_N=mallory/);
    expect(() => chap.verifyTarget(new Map())).toThrow(/sent no CHAP_N\/CHAP_R/);
  });

  it('never reflects the target challenge', () => {
    const chap = new ChapInitiator({ credentials, targetCredentials, challenge: () => challenge16 });
    const answer = new Map(
      chap.answer(
        new Map([
          ['CHAP_A', '5'],
          ['CHAP_I', '1'],
          ['CHAP_C', encodeBinaryValue(challenge16)],
        ]),
      ),
    );
    expect(answer.get('CHAP_C')).not.toBe(encodeBinaryValue(challenge16));
  });

  it('refuses a shared secret, an algorithm not offered, a bad identifier', () => {
    expect(
      () =>
        new ChapInitiator({ credentials, targetCredentials: { username: 't', secret: credentials.secret } }),
    ).toThrow(/must differ from the initiator secret/);
    const chap = new ChapInitiator({ credentials });
    expect(() =>
      chap.answer(
        new Map([
          ['CHAP_A', '7'],
          ['CHAP_I', '1'],
          ['CHAP_C', '0x00'],
        ]),
      ),
    ).toThrow(IscsiProtocolError);
    expect(() =>
      chap.answer(
        new Map([
          ['CHAP_A', '5'],
          ['CHAP_I', '256'],
          ['CHAP_C', '0x00'],
        ]),
      ),
    ).toThrow(/CHAP_I=256/);
    expect(() =>
      chap.answer(
        new Map([
          ['CHAP_A', '5'],
          ['CHAP_I', '1'],
        ]),
      ),
    ).toThrow(/CHAP_C is missing/);
  });
});
