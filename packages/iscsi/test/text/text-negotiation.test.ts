import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answerOffer,
  checkAnswer,
  decodeText,
  encodeText,
  IscsiProtocolError,
  KEY_DEFINITIONS,
  operationalParameters,
  parseNumericalValue,
  splitText,
  TextAccumulator,
  TextNegotiation,
} from '../../src/index.js';

describe('text codec (RFC 7143 §6.1)', () => {
  it('encodes NUL-terminated key=value pairs, byte for byte', () => {
    expect(
      Buffer.from(
        encodeText([
          ['HeaderDigest', 'CRC32C,None'],
          ['MaxBurstLength', '262144'],
        ]),
      ).toString('latin1'),
    ).toBe('HeaderDigest=CRC32C,None\0MaxBurstLength=262144\0');
  });

  it('round-trips, keeps order and duplicates (SendTargets repeats TargetAddress), tolerates padding NULs', () => {
    const pairs = [
      ['TargetName', 'iqn.2026-11.test:a'],
      ['TargetAddress', '127.0.0.1:3260,1'],
      ['TargetAddress', '[::1]:3260,1'],
      ['X-com.example.Key', 'ünïcödé'],
    ] as const;
    const bytes = encodeText(pairs);
    expect(decodeText(bytes)).toEqual(pairs);
    expect(decodeText(Buffer.concat([bytes, Buffer.alloc(3)]))).toEqual(pairs);
    expect(decodeText(new Uint8Array(0))).toEqual([]);
    expect(decodeText(new Uint8Array(1))).toEqual([]);
  });

  it('rejects text that breaks the rules, with typed errors', () => {
    expect(() => decodeText(Buffer.from('Key=Value'))).toThrow(/not NUL-terminated/);
    expect(() => decodeText(Buffer.from('NoEquals\0'))).toThrow(/is not a key=value pair/);
    expect(() => decodeText(Buffer.from('Bad Key=1\0'))).toThrow(IscsiProtocolError);
    expect(() => decodeText(Uint8Array.of(0x41, 0x3d, 0xff, 0))).toThrow(/UTF-8/);
    expect(() => encodeText([['', 'x']])).toThrow(/text key/);
    expect(() => encodeText([['K', 'a\0b']])).toThrow(/must not contain NUL/);
  });

  it('splits long text into segments and gathers it back (C bit)', () => {
    const text = encodeText(
      Array.from({ length: 200 }, (_, i) => [`TargetName`, `iqn.2026-11.test:t${i}`] as const),
    );
    const acc = new TextAccumulator();
    for (const seg of splitText(text, 512)) {
      expect(seg.length).toBeLessThanOrEqual(512);
      acc.add(seg, 'text');
    }
    expect(decodeText(acc.take())).toHaveLength(200);
    const small = new TextAccumulator(10);
    expect(() => small.add(new Uint8Array(11), 'Text Response')).toThrow(/exceeds 10 bytes/);
  });

  it('decoding random bytes gives pairs or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeText(b);
        } catch (e) {
          if (!(e instanceof IscsiProtocolError)) throw e;
        }
      }),
    );
  });
});

describe('result functions (RFC 7143 §6.2, §13)', () => {
  it('numbers: decimal, hex and base64 forms', () => {
    expect(parseNumericalValue('262144')).toBe(262144);
    expect(parseNumericalValue('0x40000')).toBe(262144);
    expect(parseNumericalValue('0bBAAA')).toBe(0x040000);
    expect(parseNumericalValue('012')).toBeUndefined();
    expect(parseNumericalValue('-1')).toBeUndefined();
  });

  it('the responder answers by each key function', () => {
    expect(answerOffer('HeaderDigest', 'CRC32C,None', 'None,CRC32C')).toBe('CRC32C');
    expect(answerOffer('HeaderDigest', 'CRC32C', 'None')).toBe('Reject');
    expect(answerOffer('MaxBurstLength', '262144', '65536')).toBe('65536');
    expect(answerOffer('DefaultTime2Wait', '0', '2')).toBe('2');
    expect(answerOffer('DefaultTime2Retain', '0', '20')).toBe('0');
    expect(answerOffer('ErrorRecoveryLevel', '2', undefined)).toBe('0');
    expect(answerOffer('MaxBurstLength', '100', '65536')).toBe('Reject'); // below 512
    expect(answerOffer('InitialR2T', 'No', 'Yes')).toBe('Yes'); // OR
    expect(answerOffer('InitialR2T', 'No', 'No')).toBe('No');
    expect(answerOffer('ImmediateData', 'Yes', 'No')).toBe('No'); // AND
    expect(answerOffer('IFMarker', 'Yes', undefined)).toBe('No');
    expect(answerOffer('X-com.example.Foo', 'bar', undefined)).toBe('NotUnderstood');
    expect(answerOffer('MaxRecvDataSegmentLength', '8192', '262144')).toBeUndefined(); // declarative
  });

  it('the originator admits only answers the function allows', () => {
    expect(checkAnswer('MaxBurstLength', '262144', '65536')).toEqual({
      ok: true,
      value: '65536',
      negotiated: true,
    });
    expect(checkAnswer('MaxBurstLength', '65536', '262144')).toMatchObject({
      ok: false,
      rule: expect.stringMatching(/not above the offer/),
    });
    expect(checkAnswer('DefaultTime2Wait', '2', '1')).toMatchObject({ ok: false });
    expect(checkAnswer('HeaderDigest', 'CRC32C,None', 'None')).toMatchObject({ ok: true, value: 'None' });
    expect(checkAnswer('HeaderDigest', 'None', 'CRC32C')).toMatchObject({
      ok: false,
      rule: expect.stringMatching(/offered values/),
    });
    expect(checkAnswer('ImmediateData', 'No', 'Yes')).toMatchObject({
      ok: false,
      rule: expect.stringMatching(/AND with No/),
    });
    expect(checkAnswer('InitialR2T', 'Yes', 'No')).toMatchObject({
      ok: false,
      rule: expect.stringMatching(/OR with Yes/),
    });
    expect(checkAnswer('InitialR2T', 'No', 'Yes')).toMatchObject({ ok: true, value: 'Yes' });
    expect(checkAnswer('DataDigest', 'CRC32C', 'Reject')).toEqual({
      ok: true,
      value: 'None',
      negotiated: false,
    });
    expect(checkAnswer('MaxBurstLength', '262144', 'NotUnderstood')).toMatchObject({
      value: '262144',
      negotiated: false,
    });
  });

  it('answers a responder computes are always admissible to the originator (property)', () => {
    const numericKeys = Object.values(KEY_DEFINITIONS).filter((d) => d.kind === 'numerical');
    fc.assert(
      fc.property(fc.constantFrom(...numericKeys), fc.nat(), fc.nat(), (d, a, b) => {
        const [lo, hi] = d.range!;
        const offer = String(lo + (a % (hi - lo + 1)));
        const local = String(lo + (b % (hi - lo + 1)));
        const answer = answerOffer(d.name, offer, local)!;
        expect(checkAnswer(d.name, offer, answer).ok).toBe(true);
      }),
    );
    const booleanKeys = Object.values(KEY_DEFINITIONS).filter((d) => d.kind === 'boolean');
    for (const d of booleanKeys)
      for (const offer of ['Yes', 'No'])
        for (const local of ['Yes', 'No'])
          expect(checkAnswer(d.name, offer, answerOffer(d.name, offer, local)!).ok).toBe(true);
  });
});

describe('TextNegotiation (one side of a login)', () => {
  it('an initiator negotiates against tgt-like answers and gets the operational parameters', () => {
    const n = new TextNegotiation({ what: 'login' });
    n.offer([
      ['HeaderDigest', 'CRC32C,None'],
      ['DataDigest', 'None'],
      ['MaxRecvDataSegmentLength', '262144'],
      ['InitialR2T', 'No'],
      ['ImmediateData', 'Yes'],
      ['MaxBurstLength', '262144'],
      ['FirstBurstLength', '262144'],
      ['MaxOutstandingR2T', '1'],
      ['ErrorRecoveryLevel', '0'],
    ]);
    n.receive([
      ['TargetPortalGroupTag', '1'],
      ['HeaderDigest', 'CRC32C'],
      ['DataDigest', 'None'],
      ['MaxRecvDataSegmentLength', '8192'],
      ['InitialR2T', 'Yes'],
      ['ImmediateData', 'Yes'],
      ['MaxBurstLength', '65536'],
      ['FirstBurstLength', '262144'], // admissible alone, but above MaxBurstLength: clamped
      ['MaxOutstandingR2T', '1'],
      ['ErrorRecoveryLevel', '0'],
      ['X-vendor.Feature', 'on'],
    ]);
    expect(n.takeAnswers()).toEqual([['X-vendor.Feature', 'NotUnderstood']]);
    n.finish();
    const p = operationalParameters(n, 'login');
    expect(p).toMatchObject({
      headerDigest: true,
      dataDigest: false,
      maxRecvDataSegmentLength: 262144,
      peerMaxRecvDataSegmentLength: 8192,
      initialR2T: true,
      immediateData: true,
      maxBurstLength: 65536,
      firstBurstLength: 65536,
      defaultTime2Wait: 2,
      defaultTime2Retain: 20,
    });
    expect(n.declaredByPeer('TargetPortalGroupTag')).toBe('1');
  });

  it('answers keys the peer offers, and takes decided booleans when the peer stays silent', () => {
    const n = new TextNegotiation({ what: 'login', local: { MaxBurstLength: '131072' } });
    n.offer([
      ['ImmediateData', 'No'],
      ['InitialR2T', 'Yes'],
      ['MaxOutstandingR2T', '4'],
    ]);
    n.receive([['MaxBurstLength', '262144']]);
    expect(n.takeAnswers()).toEqual([['MaxBurstLength', '131072']]);
    n.finish();
    const p = operationalParameters(n, 'login');
    expect(p).toMatchObject({
      immediateData: false,
      initialR2T: true,
      maxOutstandingR2T: 1,
      maxBurstLength: 131072,
    });
  });

  it('a key sent twice, or an inadmissible answer, is a protocol error', () => {
    const n = new TextNegotiation({ what: 'login' });
    n.offer([['MaxBurstLength', '8192']]);
    expect(() => n.receive([['MaxBurstLength', '16384']])).toThrow(
      /login: MaxBurstLength=16384 answering MaxBurstLength=8192/,
    );
    const m = new TextNegotiation({ what: 'login' });
    m.receive([['TargetAlias', 'a']]);
    expect(() => m.receive([['TargetAlias', 'b']])).toThrow(/already sent once/);
  });

  it('a peer MaxRecvDataSegmentLength outside 512..2^24-1 is refused', () => {
    const n = new TextNegotiation({ what: 'login' });
    n.receive([['MaxRecvDataSegmentLength', '100']]);
    expect(() => operationalParameters(n, 'login')).toThrow(/512..16777215/);
  });
});
