/**
 * CHAP for iSCSI login (RFC 7143 §12.1.3, over RFC 1994): the responder proves it knows the
 * secret by answering CHAP_R = H(CHAP_I as one octet || secret || CHAP_C). H is MD5
 * (CHAP_A=5, the algorithm RFC 7143 requires); the later IANA "PPP authentication algorithm"
 * values 6 (SHA-1), 7 (SHA-256) and 8 (SHA3-256) are offered only on request, as libiscsi
 * does (lib/login.c, `auth=` URL argument) and Linux's target does (drivers/target/iscsi/
 * iscsi_target_auth.c). tgt 1.0.x calls SHA-1 "7" (usr/iscsi/chap.c CHAP_DIGEST_ALG_SHA1),
 * which clashes with the registry: against tgt use MD5.
 *
 * Mutual CHAP: the initiator adds its own CHAP_I and CHAP_C with its response, and checks
 * the target's CHAP_N and CHAP_R. RFC 7143 §12.1.3: the secrets of the two directions must
 * differ, and a side must not accept its own challenge back (a reflection attack).
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidFieldError } from '@sgv4/core';
import { IscsiProtocolError } from '../errors.js';
import { parseNumericalValue } from '../text/keys.js';
import type { TextPair } from '../text/text-codec.js';

/** CHAP_A values (IANA PPP authentication algorithms). */
export const ChapAlgorithm = {
  MD5: 5,
  SHA1: 6,
  SHA256: 7,
  SHA3_256: 8,
} as const;

/** One of the {@link ChapAlgorithm} values. */
export type ChapAlgorithm = (typeof ChapAlgorithm)[keyof typeof ChapAlgorithm];

const HASH_NAMES: Readonly<Record<number, string>> = { 5: 'md5', 6: 'sha1', 7: 'sha256', 8: 'sha3-256' };

/** Names as libiscsi's `auth=` URL argument spells them. */
export const CHAP_ALGORITHM_NAMES: Readonly<Record<string, ChapAlgorithm>> = {
  md5: ChapAlgorithm.MD5,
  sha1: ChapAlgorithm.SHA1,
  'sha-256': ChapAlgorithm.SHA256,
  'sha3-256': ChapAlgorithm.SHA3_256,
};

/** A CHAP name and secret. */
export interface ChapCredentials {
  /** The name sent as CHAP_N. */
  readonly username: string;
  /** The shared secret (UTF-8 when a string). */
  readonly secret: string | Uint8Array;
}

function secretBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
}

/** CHAP_R for an identifier, secret and challenge: H(identifier || secret || challenge) (RFC 1994 §4.1). */
export function chapResponse(
  algorithm: ChapAlgorithm,
  identifier: number,
  secret: string | Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  const hashName = HASH_NAMES[algorithm];
  if (hashName === undefined)
    throw new InvalidFieldError(
      'CHAP_A',
      'must be 5 (MD5), 6 (SHA-1), 7 (SHA-256) or 8 (SHA3-256)',
      algorithm,
    );
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 255) {
    throw new InvalidFieldError('CHAP_I', 'must be an integer in 0..255', identifier);
  }
  return new Uint8Array(
    createHash(hashName)
      .update(Uint8Array.of(identifier))
      .update(secretBytes(secret))
      .update(challenge)
      .digest(),
  );
}

/** A binary value as RFC 7143 §6.1 writes it: `0x` + hex (default) or `0b` + base64. */
export function encodeBinaryValue(bytes: Uint8Array, format: 'hex' | 'base64' = 'hex'): string {
  return format === 'hex'
    ? `0x${Buffer.from(bytes).toString('hex')}`
    : `0b${Buffer.from(bytes).toString('base64')}`;
}

/** Decodes a `0x`/`0X` hex or `0b`/`0B` base64 binary value; IscsiProtocolError otherwise. */
export function decodeBinaryValue(text: string, key: string): Uint8Array {
  if (/^0[xX]([0-9a-fA-F]{2})+$/.test(text)) return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return new Uint8Array(Buffer.from(`0${text.slice(2)}`, 'hex'));
  if (/^0[bB][A-Za-z0-9+/]+=*$/.test(text)) return new Uint8Array(Buffer.from(text.slice(2), 'base64'));
  throw new IscsiProtocolError(
    `${key}=${text.slice(0, 40)}`,
    'must be a binary value, 0x<hex> or 0b<base64> (RFC 7143 §6.1)',
  );
}

/** A fresh random challenge: 16 bytes, or the digest length when longer (RFC 7143 §12.1.3 wants challenges at least that long). */
export function newChallenge(algorithm: ChapAlgorithm): Uint8Array {
  return new Uint8Array(randomBytes(algorithm === ChapAlgorithm.MD5 ? 16 : 32));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Options of a {@link ChapInitiator}. */
export interface ChapInitiatorOptions {
  /** Our name and secret (the target checks them). */
  readonly credentials: ChapCredentials;
  /** The target's name and secret, for mutual CHAP (we check them). */
  readonly targetCredentials?: ChapCredentials;
  /** CHAP_A values to offer, in preference order (default MD5 only). */
  readonly algorithms?: readonly ChapAlgorithm[];
  /** Source of challenges (tests pass a fixed one). */
  readonly challenge?: (algorithm: ChapAlgorithm) => Uint8Array;
  /** Identifier for our challenge (default random 0..255). */
  readonly identifier?: number;
}

/**
 * The initiator's side of CHAP, step by step: {@link offer} the algorithms, {@link answer}
 * the target's challenge, then (mutual) {@link verifyTarget} the target's answer. Failures
 * throw IscsiProtocolError naming the key and the rule.
 */
export class ChapInitiator {
  readonly #options: ChapInitiatorOptions;
  #algorithm: ChapAlgorithm | undefined;
  #targetChallenge: Uint8Array | undefined;
  #ourChallenge: Uint8Array | undefined;
  #ourIdentifier = 0;

  /** See {@link ChapInitiatorOptions}. InvalidFieldError when both directions share a secret. */
  constructor(options: ChapInitiatorOptions) {
    const algorithms = options.algorithms ?? [ChapAlgorithm.MD5];
    if (algorithms.length === 0 || algorithms.some((a) => HASH_NAMES[a] === undefined)) {
      throw new InvalidFieldError('chap.algorithms', 'must list CHAP_A values 5, 6, 7 or 8', algorithms);
    }
    if (
      options.targetCredentials !== undefined &&
      equalBytes(secretBytes(options.targetCredentials.secret), secretBytes(options.credentials.secret))
    ) {
      throw new InvalidFieldError(
        'targetCredentials.secret',
        'must differ from the initiator secret (RFC 7143 §12.1.3: a secret is not shared by both directions)',
        '<secret>',
      );
    }
    this.#options = { ...options, algorithms };
  }

  /** True when the target must prove itself too. */
  get mutual(): boolean {
    return this.#options.targetCredentials !== undefined;
  }

  /** The algorithm the target picked (after {@link answer}). */
  get algorithm(): ChapAlgorithm | undefined {
    return this.#algorithm;
  }

  /** `CHAP_A=<list>`. */
  offer(): TextPair[] {
    return [['CHAP_A', (this.#options.algorithms ?? []).join(',')]];
  }

  /**
   * From the target's CHAP_A, CHAP_I and CHAP_C: our CHAP_N and CHAP_R, plus CHAP_I and
   * CHAP_C when mutual.
   */
  answer(target: ReadonlyMap<string, string>): TextPair[] {
    const a = target.get('CHAP_A');
    const algorithm = a === undefined ? undefined : parseNumericalValue(a);
    if (algorithm === undefined || !(this.#options.algorithms ?? []).includes(algorithm as ChapAlgorithm)) {
      throw new IscsiProtocolError(
        `CHAP_A=${a}`,
        `must be one of the offered algorithms ${this.offer()[0]![1]} (RFC 7143 §12.1.3)`,
      );
    }
    this.#algorithm = algorithm as ChapAlgorithm;
    const i = target.get('CHAP_I');
    const identifier = i === undefined ? undefined : parseNumericalValue(i);
    if (identifier === undefined || identifier > 255) {
      throw new IscsiProtocolError(`CHAP_I=${i}`, 'must be a number in 0..255 (RFC 1994 §4.1)');
    }
    const c = target.get('CHAP_C');
    if (c === undefined)
      throw new IscsiProtocolError('CHAP challenge', 'CHAP_C is missing (RFC 7143 §12.1.3)');
    const challenge = decodeBinaryValue(c, 'CHAP_C');
    if (challenge.length === 0) throw new IscsiProtocolError('CHAP_C', 'must not be empty (RFC 1994 §4.1)');
    this.#targetChallenge = challenge;
    const { credentials, targetCredentials } = this.#options;
    const out: TextPair[] = [
      ['CHAP_N', credentials.username],
      ['CHAP_R', encodeBinaryValue(chapResponse(this.#algorithm, identifier, credentials.secret, challenge))],
    ];
    if (targetCredentials !== undefined) {
      this.#ourIdentifier = this.#options.identifier ?? randomBytes(1)[0]!;
      let ours = (this.#options.challenge ?? newChallenge)(this.#algorithm);
      // Never send the target's own challenge back to it (reflection, RFC 7143 §12.1.3).
      while (equalBytes(ours, challenge)) ours = newChallenge(this.#algorithm);
      this.#ourChallenge = ours;
      out.push(['CHAP_I', String(this.#ourIdentifier)], ['CHAP_C', encodeBinaryValue(ours)]);
    }
    return out;
  }

  /**
   * Mutual CHAP: checks the target's CHAP_N and CHAP_R against the expected name and secret.
   * Throws IscsiProtocolError naming the failure (missing keys, wrong name, wrong response).
   */
  verifyTarget(target: ReadonlyMap<string, string>): void {
    const expected = this.#options.targetCredentials;
    if (expected === undefined || this.#ourChallenge === undefined || this.#algorithm === undefined) return;
    const n = target.get('CHAP_N');
    const r = target.get('CHAP_R');
    if (n === undefined || r === undefined) {
      throw new IscsiProtocolError(
        'mutual CHAP',
        'the target sent no CHAP_N/CHAP_R to prove itself (RFC 7143 §12.1.3)',
      );
    }
    if (n !== expected.username) {
      throw new IscsiProtocolError(
        `mutual CHAP: CHAP_N=${n}`,
        `the target name must be ${JSON.stringify(expected.username)}`,
      );
    }
    const got = decodeBinaryValue(r, 'CHAP_R');
    const want = chapResponse(this.#algorithm, this.#ourIdentifier, expected.secret, this.#ourChallenge);
    if (!equalBytes(got, want)) {
      throw new IscsiProtocolError(
        'mutual CHAP: CHAP_R',
        'the target does not know the secret (response mismatch)',
      );
    }
  }

  /** The target's challenge (after {@link answer}); a target must not be able to reflect it. */
  get targetChallenge(): Uint8Array | undefined {
    return this.#targetChallenge;
  }
}

/** Options of a {@link ChapAuthenticator}. */
export interface ChapAuthenticatorOptions {
  /** The secret of an initiator CHAP name, or undefined for a name the target does not know. */
  readonly secretOf: (username: string) => string | Uint8Array | undefined;
  /** The target's own name and secret, for mutual CHAP (without it, mutual CHAP is refused). */
  readonly targetCredentials?: ChapCredentials;
  /** CHAP_A values the target accepts, in its preference order (default MD5 only). */
  readonly algorithms?: readonly ChapAlgorithm[];
  /** Source of challenges (tests pass a fixed one). */
  readonly challenge?: (algorithm: ChapAlgorithm) => Uint8Array;
}

/** Why a CHAP exchange failed on the target side (the login then fails with status 2/01). */
export class ChapAuthenticationError extends IscsiProtocolError {}

/**
 * The target's side of CHAP, step by step: {@link select} an algorithm from the initiator's
 * CHAP_A and issue the challenge, then {@link verify} its CHAP_N/CHAP_R (and answer its own
 * challenge for mutual CHAP). Failures throw {@link ChapAuthenticationError}.
 */
export class ChapAuthenticator {
  readonly #options: ChapAuthenticatorOptions;
  #algorithm: ChapAlgorithm | undefined;
  #identifier = 0;
  #challenge: Uint8Array | undefined;
  #username: string | undefined;

  /** See {@link ChapAuthenticatorOptions}. */
  constructor(options: ChapAuthenticatorOptions) {
    this.#options = options;
  }

  /** The CHAP name the initiator authenticated as (after {@link verify}). */
  get username(): string | undefined {
    return this.#username;
  }

  /** From the initiator's CHAP_A list: CHAP_A (the pick), CHAP_I and CHAP_C (RFC 7143 §12.1.3). */
  select(offer: string | undefined): TextPair[] {
    const accepted = this.#options.algorithms ?? [ChapAlgorithm.MD5];
    const offered = (offer ?? '').split(',').map((v) => parseNumericalValue(v));
    const pick = offered.find(
      (a): a is ChapAlgorithm => a !== undefined && accepted.includes(a as ChapAlgorithm),
    );
    if (pick === undefined) {
      throw new ChapAuthenticationError(
        `CHAP_A=${offer ?? ''}`,
        `none of the offered algorithms is accepted (${accepted.join(',')})`,
      );
    }
    this.#algorithm = pick;
    this.#identifier = randomBytes(1)[0]!;
    this.#challenge = (this.#options.challenge ?? newChallenge)(pick);
    return [
      ['CHAP_A', String(pick)],
      ['CHAP_I', String(this.#identifier)],
      ['CHAP_C', encodeBinaryValue(this.#challenge)],
    ];
  }

  /**
   * Checks the initiator's CHAP_N/CHAP_R; for mutual CHAP (the initiator sent CHAP_I and
   * CHAP_C) returns the target's CHAP_N and CHAP_R, else nothing.
   */
  verify(keys: ReadonlyMap<string, string>): TextPair[] {
    const algorithm = this.#algorithm;
    const challenge = this.#challenge;
    if (algorithm === undefined || challenge === undefined) {
      throw new ChapAuthenticationError('CHAP response', 'arrived before the challenge (RFC 7143 §12.1.3)');
    }
    const n = keys.get('CHAP_N');
    const r = keys.get('CHAP_R');
    if (n === undefined || r === undefined)
      throw new ChapAuthenticationError('CHAP response', 'CHAP_N and CHAP_R are required');
    const secret = this.#options.secretOf(n);
    if (secret === undefined) throw new ChapAuthenticationError(`CHAP_N=${n}`, 'no such CHAP account');
    const got = decodeBinaryValue(r, 'CHAP_R');
    if (!equalBytes(got, chapResponse(algorithm, this.#identifier, secret, challenge))) {
      throw new ChapAuthenticationError(
        `CHAP_R of ${n}`,
        'the initiator does not know the secret (response mismatch)',
      );
    }
    this.#username = n;
    const i = keys.get('CHAP_I');
    const c = keys.get('CHAP_C');
    if (i === undefined && c === undefined) return [];
    const mine = this.#options.targetCredentials;
    if (mine === undefined)
      throw new ChapAuthenticationError('mutual CHAP', 'the target has no credentials to prove itself with');
    const identifier = i === undefined ? undefined : parseNumericalValue(i);
    if (identifier === undefined || identifier > 255 || c === undefined) {
      throw new ChapAuthenticationError(`CHAP_I=${i}`, 'mutual CHAP needs CHAP_I in 0..255 and CHAP_C');
    }
    const theirs = decodeBinaryValue(c, 'CHAP_C');
    if (theirs.length === 0 || equalBytes(theirs, challenge)) {
      // Our own challenge sent back: a reflection attack (RFC 7143 §12.1.3).
      throw new ChapAuthenticationError(
        'mutual CHAP: CHAP_C',
        'must be a new challenge, not the target one reflected',
      );
    }
    if (equalBytes(secretBytes(mine.secret), secretBytes(secret))) {
      throw new ChapAuthenticationError(
        'mutual CHAP',
        'the two directions must not share a secret (RFC 7143 §12.1.3)',
      );
    }
    return [
      ['CHAP_N', mine.username],
      ['CHAP_R', encodeBinaryValue(chapResponse(algorithm, identifier, mine.secret, theirs))],
    ];
  }
}
