/**
 * The login phase of one connection (RFC 7143 §6, §11.12-11.13), initiator side: the security
 * stage (AuthMethod, CHAP), the operational stage (text negotiation of the keys the session
 * asked for) and the transit to the full feature phase, with the rules the target's Login
 * Responses must keep.
 * @module
 */
import { AbortedError, TimeoutError } from '@sgv4/core';
import type { ChapInitiator } from '../auth/chap.js';
import { IscsiLoginError, IscsiProtocolError, LoginStatusClass } from '../errors.js';
import type { AnyPdu, Pdu } from '../pdu/pdu-codec.js';
import { NegotiationAnswer } from '../text/keys.js';
import { type OperationalParameters, operationalParameters, TextNegotiation } from '../text/negotiation.js';
import { decodeText, encodeText, splitText, TextAccumulator, type TextPair } from '../text/text-codec.js';
import { type IscsiConnection, LOGIN_MAX_DATA_SEGMENT_LENGTH } from './connection.js';
import { serialAdd } from './serial-number.js';

/** Login stages (RFC 7143 §11.12.3: CSG and NSG). */
export const LoginStage = {
  SECURITY_NEGOTIATION: 0,
  OPERATIONAL_NEGOTIATION: 1,
  FULL_FEATURE_PHASE: 3,
} as const;

/** What a login needs. */
export interface LoginOptions {
  /** Our iSCSI name (InitiatorName, RFC 7143 §13.5). */
  readonly initiatorName: string;
  /** InitiatorAlias, if any. */
  readonly initiatorAlias?: string;
  /** The target (TargetName); absent for a discovery session (SessionType=Discovery). */
  readonly targetName?: string;
  /** ISID (6 bytes, RFC 7143 §11.12.5). */
  readonly isid: Uint8Array;
  /** TSIH: 0 for a new session (and for session reinstatement, §6.3.5). */
  readonly tsih: number;
  /** CID. */
  readonly cid: number;
  /** The CmdSN of the login (the first command in the full feature phase uses it too). */
  readonly cmdSN: number;
  /** CHAP, when the login should authenticate. */
  readonly chap?: ChapInitiator;
  /** Operational keys to offer (stage 1). */
  readonly offers: readonly TextPair[];
  /** Our values for answering keys the target offers. */
  readonly local?: Readonly<Record<string, string>>;
  /** Whole-login timeout (default 15 s). */
  readonly timeoutMs?: number;
  /** Cancels the login. */
  readonly signal?: AbortSignal;
}

/** What a successful login leaves. */
export interface LoginResult {
  /** The session's TSIH (from the final Login Response). */
  readonly tsih: number;
  /** The next StatSN we expect (last StatSN + 1). */
  readonly expStatSN: number;
  /** The target's ExpCmdSN. */
  readonly expCmdSN: number;
  /** The target's MaxCmdSN. */
  readonly maxCmdSN: number;
  /** The negotiated parameters. */
  readonly parameters: OperationalParameters;
  /** TargetAlias, when the target declared one. */
  readonly targetAlias?: string;
  /** TargetPortalGroupTag, when the target declared one. */
  readonly targetPortalGroupTag?: number;
  /** The AuthMethod in force (`None` or `CHAP`). */
  readonly authMethod: string;
}

const MAX_ROUNDS = 16;
const LOGIN_ITT = 0;

/** Waits for PDUs one at a time during login. */
class PduQueue {
  readonly #pdus: AnyPdu[] = [];
  #waiter: ((pdu: AnyPdu | Error) => void) | undefined;
  #error: Error | undefined;

  push(pdu: AnyPdu): void {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w(pdu);
    } else this.#pdus.push(pdu);
  }

  fail(error: Error): void {
    this.#error ??= error;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(error);
  }

  next(): Promise<AnyPdu> {
    const pdu = this.#pdus.shift();
    if (pdu) return Promise.resolve(pdu);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = (p) => (p instanceof Error ? reject(p) : resolve(p));
    });
  }
}

/**
 * Logs in on `conn`. On success the connection is paused after the final Login Response: set
 * digests and handlers, then call `resumeReading()`. Rejects with IscsiLoginError (the target's status class and detail, or
 * the reason the initiator gave up), IscsiProtocolError, TimeoutError or AbortedError, after
 * closing the connection.
 */
export async function login(conn: IscsiConnection, options: LoginOptions): Promise<LoginResult> {
  const queue = new PduQueue();
  const portal = conn.portal;
  const targetName = options.targetName ?? '';
  const what = `login to ${targetName || 'discovery session'} at ${portal}`;
  conn.onPdu = (pdu) => {
    // The final Login Response: hold the next PDUs until the caller has switched digests on
    // (they apply from the very next PDU, RFC 7143 §13.1) and attached its handler.
    if (
      pdu.kind === 'LOGIN_RESPONSE' &&
      pdu.header.transit &&
      pdu.header.nsg === LoginStage.FULL_FEATURE_PHASE &&
      pdu.header.statusClass === 0
    ) {
      conn.pauseReading();
    }
    queue.push(pdu);
  };
  conn.onEnd = (end) =>
    queue.fail(
      end.error ??
        new IscsiLoginError({ statusClass: 0, statusDetail: 0, targetName, portal, reason: end.reason }),
    );
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timer = setTimeout(() => conn.fail(new TimeoutError(what, timeoutMs), 'login timed out'), timeoutMs);
  const onAbort = () => conn.fail(new AbortedError(what, options.signal?.reason), 'login canceled');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await runLogin(conn, queue, options, what);
  } catch (error) {
    conn.fail(error as Error, (error as Error).message);
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function runLogin(
  conn: IscsiConnection,
  queue: PduQueue,
  options: LoginOptions,
  what: string,
): Promise<LoginResult> {
  const targetName = options.targetName ?? '';
  const portal = conn.portal;
  const negotiation = new TextNegotiation({ what, ...(options.local ? { local: options.local } : {}) });
  let expStatSN = 0;
  let last: Pdu<'LOGIN_RESPONSE'> | undefined;

  /** One request/response exchange, gathering a response text that spans PDUs (C bit). */
  const exchange = async (
    pairs: readonly TextPair[],
    transit: boolean,
    csg: number,
    nsg: number,
  ): Promise<{ response: Pdu<'LOGIN_RESPONSE'>; pairs: TextPair[] }> => {
    const segments = splitText(encodeText(pairs), LOGIN_MAX_DATA_SEGMENT_LENGTH);
    let response: Pdu<'LOGIN_RESPONSE'> | undefined;
    for (let i = 0; i < segments.length; i++) {
      const more = i < segments.length - 1;
      send(more ? false : transit, more, csg, more ? 0 : nsg, segments[i]!);
      response = await receive(csg);
      // A request with C=1 gets an empty response; the text continues in the next request (§11.12.2).
    }
    const text = new TextAccumulator();
    text.add(response!.data, what);
    while (response!.header.continue) {
      send(false, false, csg, 0, new Uint8Array(0));
      response = await receive(csg);
      text.add(response.data, what);
    }
    return { response: response!, pairs: decodeText(text.take(), `${what}: Login Response text`) };
  };

  const send = (transit: boolean, cont: boolean, csg: number, nsg: number, data: Uint8Array) => {
    conn.send({
      kind: 'LOGIN_REQUEST',
      immediate: true,
      header: {
        transit,
        continue: cont,
        csg,
        nsg: transit ? nsg : 0,
        versionMax: 0,
        versionMin: 0,
        isid: options.isid,
        tsih: options.tsih,
        itt: LOGIN_ITT,
        cid: options.cid,
        cmdSN: options.cmdSN,
        expStatSN,
      },
      data,
    });
  };

  const receive = async (csg: number): Promise<Pdu<'LOGIN_RESPONSE'>> => {
    const pdu = await queue.next();
    if (pdu.kind !== 'LOGIN_RESPONSE') {
      throw new IscsiProtocolError(
        `${what}: ${pdu.kind}`,
        'only Login Responses may arrive during login (RFC 7143 §6.1)',
      );
    }
    const h = pdu.header;
    if (h.statusClass !== LoginStatusClass.SUCCESS) {
      let targetAddress: string | undefined;
      try {
        targetAddress = decodeText(pdu.data).find(([k]) => k === 'TargetAddress')?.[1];
      } catch {
        targetAddress = undefined;
      }
      throw new IscsiLoginError({
        statusClass: h.statusClass,
        statusDetail: h.statusDetail,
        targetName,
        portal,
        ...(targetAddress !== undefined ? { targetAddress } : {}),
      });
    }
    if (h.versionActive !== 0) {
      throw new IscsiProtocolError(
        `${what}: Version-active ${h.versionActive}`,
        'this initiator speaks version 0 only (RFC 7143 §11.13.3)',
      );
    }
    if (h.itt !== LOGIN_ITT || h.csg !== csg || !sameBytes(h.isid, options.isid)) {
      throw new IscsiProtocolError(
        `${what}: Login Response ITT ${h.itt}, CSG ${h.csg}`,
        `must echo the request's ITT ${LOGIN_ITT}, ISID and CSG ${csg} (RFC 7143 §11.13)`,
      );
    }
    expStatSN = serialAdd(h.statSN, 1);
    last = pdu;
    return pdu;
  };

  // Security stage: always entered, so that a target requiring CHAP says so (§6.3).
  const chap = options.chap;
  const authOffer = chap === undefined ? 'None' : chap.mutual ? 'CHAP' : 'CHAP,None';
  const first: TextPair[] = [
    ['InitiatorName', options.initiatorName],
    ...(options.initiatorAlias ? ([['InitiatorAlias', options.initiatorAlias]] as TextPair[]) : []),
    options.targetName !== undefined ? ['TargetName', options.targetName] : ['SessionType', 'Discovery'],
    ...(options.targetName !== undefined ? ([['SessionType', 'Normal']] as TextPair[]) : []),
    ['AuthMethod', authOffer],
  ];
  let stage: number = LoginStage.SECURITY_NEGOTIATION;
  let round = await exchange(
    negotiation.offer(first),
    chap === undefined,
    stage,
    LoginStage.OPERATIONAL_NEGOTIATION,
  );
  const security = (pairs: TextPair[]) => {
    const chapKeys = new Map(pairs.filter(([k]) => k.startsWith('CHAP_')));
    negotiation.receive(pairs.filter(([k]) => !k.startsWith('CHAP_')));
    return chapKeys;
  };
  security(round.pairs);
  const rejected = round.pairs.some(([k, v]) => k === 'AuthMethod' && v === NegotiationAnswer.REJECT);
  // A target that leaves AuthMethod unanswered in its first response authenticates nobody.
  const authMethod = rejected ? undefined : (negotiation.result('AuthMethod') ?? 'None');
  if (authMethod === undefined || (chap?.mutual && authMethod !== 'CHAP')) {
    throw new IscsiLoginError({
      statusClass: 0,
      statusDetail: 0,
      targetName,
      portal,
      reason:
        authMethod === undefined
          ? `the target accepts none of AuthMethod=${authOffer}${chap === undefined ? ' (it may require CHAP credentials)' : ''}`
          : `mutual CHAP was asked for, but the target chose AuthMethod=${authMethod}`,
    });
  }
  if (chap !== undefined && authMethod === 'CHAP') {
    // CHAP failures on our side (a bad challenge, a target that cannot prove itself) end the
    // login like the target's refusals do: as an IscsiLoginError naming the reason.
    const chapStep = <T>(step: () => T): T => {
      try {
        return step();
      } catch (error) {
        if (!(error instanceof IscsiProtocolError)) throw error;
        throw new IscsiLoginError(
          { statusClass: 0, statusDetail: 0, targetName, portal, reason: `CHAP: ${error.message}` },
          { cause: error },
        );
      }
    };
    round = await exchange(chap.offer(), false, stage, 0);
    const answer = chapStep(() => chap.answer(security(round.pairs)));
    round = await exchange(answer, true, stage, LoginStage.OPERATIONAL_NEGOTIATION);
    chapStep(() => chap.verifyTarget(security(round.pairs)));
  }
  for (let i = 0; !round.response.header.transit; i++) {
    if (i >= MAX_ROUNDS)
      throw new IscsiProtocolError(
        what,
        `the target did not leave the security stage in ${MAX_ROUNDS} rounds`,
      );
    round = await exchange(negotiation.takeAnswers(), true, stage, LoginStage.OPERATIONAL_NEGOTIATION);
    security(round.pairs);
  }
  stage = round.response.header.nsg;

  // Operational stage (skipped if the target went straight to full feature phase).
  if (stage === LoginStage.OPERATIONAL_NEGOTIATION) {
    let pairs = [...negotiation.offer(options.offers), ...negotiation.takeAnswers()];
    for (let i = 0; ; i++) {
      if (i >= MAX_ROUNDS)
        throw new IscsiProtocolError(what, `the target did not finish negotiating in ${MAX_ROUNDS} rounds`);
      round = await exchange(pairs, true, stage, LoginStage.FULL_FEATURE_PHASE);
      negotiation.receive(round.pairs);
      pairs = negotiation.takeAnswers();
      if (round.response.header.transit) break;
    }
    stage = round.response.header.nsg;
  }
  if (stage !== LoginStage.FULL_FEATURE_PHASE) {
    throw new IscsiProtocolError(
      `${what}: NSG ${stage}`,
      'the final Login Response must move to the full feature phase (RFC 7143 §6.3)',
    );
  }
  negotiation.finish();
  const parameters = operationalParameters(negotiation, what);
  const final = last!.header;
  const tpgt = negotiation.declaredByPeer('TargetPortalGroupTag');
  const alias = negotiation.declaredByPeer('TargetAlias');
  return {
    tsih: final.tsih,
    expStatSN,
    expCmdSN: final.expCmdSN,
    maxCmdSN: final.maxCmdSN,
    parameters,
    authMethod,
    ...(alias !== undefined ? { targetAlias: alias } : {}),
    ...(tpgt !== undefined && /^[0-9]+$/.test(tpgt) ? { targetPortalGroupTag: Number(tpgt) } : {}),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
