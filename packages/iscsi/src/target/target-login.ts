/**
 * The login phase of one connection, target side (RFC 7143 §6, §11.12-11.13): checks of the
 * first Login Request (version, names, session type, TSIH), the security stage (AuthMethod,
 * CHAP), the operational stage (answers by the key table's result functions), and the
 * Status-Class/Status-Detail of a refusal.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ChapAuthenticationError, type ChapAuthenticator } from '../auth/chap.js';
import { IscsiProtocolError } from '../errors.js';
import type { Pdu } from '../pdu/pdu-codec.js';
import { answerOffer, NegotiationAnswer } from '../text/keys.js';
import { type OperationalParameters, operationalParameters, TextNegotiation } from '../text/negotiation.js';
import { decodeText, encodeText, TextAccumulator, type TextPair } from '../text/text-codec.js';

/** A refusal: the Login Response status to send before closing (RFC 7143 §11.13.5). */
export class LoginRefusal extends Error {
  /** Status-Class. */
  readonly statusClass: number;
  /** Status-Detail. */
  readonly statusDetail: number;

  /** `reason` is for logs and events. */
  constructor(statusClass: number, statusDetail: number, reason: string) {
    super(reason);
    this.name = 'LoginRefusal';
    this.statusClass = statusClass;
    this.statusDetail = statusDetail;
  }
}

/** What the portal tells the login about itself. */
export interface TargetLoginContext {
  /** The target's iSCSI name. */
  readonly targetName: string;
  /** TargetAlias to declare, if any. */
  readonly targetAlias?: string;
  /** The portal group tag (declared in the first response of a normal session, RFC 7143 §13.9). */
  readonly portalGroupTag: number;
  /** The target's values for answering the initiator's offers (list keys: supported values). */
  readonly local: Readonly<Record<string, string>>;
  /** The MaxRecvDataSegmentLength the target declares. */
  readonly maxRecvDataSegmentLength: number;
  /** A CHAP authenticator per login, when accounts are configured. */
  readonly chap?: () => ChapAuthenticator;
  /** CHAP is required (AuthMethod=None is refused). */
  readonly chapRequired: boolean;
  /** CHAP for discovery sessions too (default: discovery needs no authentication). */
  readonly chapForDiscovery: boolean;
  /** The CmdSN window the first response opens. */
  readonly commandWindow: number;
  /** Checks a new session's TSIH (0) and allocates one; throws LoginRefusal when the login must fail. */
  readonly allocateTsih: (request: { initiatorName: string; isid: Uint8Array; tsih: number }) => number;
}

/** A login that reached the full feature phase. */
export interface CompletedLogin {
  /** `Normal` or `Discovery`. */
  readonly sessionType: 'Normal' | 'Discovery';
  /** InitiatorName. */
  readonly initiatorName: string;
  /** InitiatorAlias, if declared. */
  readonly initiatorAlias?: string;
  /** ISID. */
  readonly isid: Uint8Array;
  /** The TSIH given. */
  readonly tsih: number;
  /** The CmdSN the full feature phase starts with (the login's). */
  readonly expCmdSN: number;
  /** The next StatSN to use. */
  readonly statSN: number;
  /** The CHAP name the initiator authenticated as, if it did. */
  readonly chapName?: string;
  /** The negotiated parameters (our MaxRecvDataSegmentLength, the initiator's as `peerMax...`). */
  readonly parameters: OperationalParameters;
}

/** One step of the login: the response to send and, when the login is over, its outcome. */
export interface LoginStep {
  /** The Login Response (header fields and text). */
  readonly response: {
    readonly header: Record<string, unknown>;
    readonly data: Uint8Array;
  };
  /** Set on the final response. */
  readonly completed?: CompletedLogin;
}

const STAGE_SECURITY = 0;
const STAGE_OPERATIONAL = 1;
const STAGE_FULL_FEATURE = 3;

/** The target side of one connection's login (see the module note). */
export class TargetLogin {
  readonly #context: TargetLoginContext;
  readonly #negotiation: TextNegotiation;
  readonly #text = new TextAccumulator(64 * 1024);
  #first = true;
  #isid: Uint8Array = new Uint8Array(6);
  #initialCmdSN = 0;
  #statSN: number;
  #initiatorName = '';
  #initiatorAlias: string | undefined;
  #sessionType: 'Normal' | 'Discovery' = 'Normal';
  #chap: ChapAuthenticator | undefined;
  #chapState: 'none' | 'offered' | 'challenged' | 'verified' = 'none';
  #authMethod: string | undefined;
  #declaredPortalGroup = false;

  /** See {@link TargetLoginContext}. */
  constructor(context: TargetLoginContext) {
    this.#context = context;
    this.#negotiation = new TextNegotiation({ what: 'login', local: context.local });
    this.#statSN = randomBytes(4).readUInt32BE(0) >>> 0;
  }

  /**
   * Handles one Login Request. Returns the response to send; throws LoginRefusal (send its
   * status, then close) or IscsiProtocolError (close).
   */
  step(request: Pdu<'LOGIN_REQUEST'>): LoginStep {
    const h = request.header;
    if (h.versionMin > 0)
      throw new LoginRefusal(2, 0x05, `version ${h.versionMin}..${h.versionMax} unsupported`);
    if (this.#first) {
      this.#isid = h.isid;
      this.#initialCmdSN = h.cmdSN;
    } else if (!sameBytes(h.isid, this.#isid)) {
      throw new LoginRefusal(2, 0x00, 'the ISID changed during login');
    }
    if (!request.immediate)
      throw new IscsiProtocolError('Login Request', 'must be immediate (RFC 7143 §11.12)');
    this.#text.add(request.data, 'Login Request');
    if (h.continue) {
      // More text follows in the next request: answer with an empty response (§11.12.2).
      return { response: { header: this.#header(h, false, h.csg, 0, 0, 0), data: new Uint8Array(0) } };
    }
    const pairs = decodeText(this.#text.take(), 'Login Request text');
    if (this.#first) {
      this.#first = false;
      this.#checkFirst(h, pairs);
    }
    const answers: TextPair[] = [];
    const keys = new Map(pairs);
    if (h.csg === STAGE_SECURITY) this.#security(pairs, keys, answers);
    else if (h.csg === STAGE_OPERATIONAL) {
      if (this.#mustAuthenticate() && this.#chapState !== 'verified') {
        throw new LoginRefusal(2, 0x01, 'authentication is required before the operational stage');
      }
      this.#negotiation.receive(
        pairs.filter(([k]) => !k.startsWith('CHAP_') && k !== 'AuthMethod' && !IDENTITY_KEYS.has(k)),
      );
      answers.push(...this.#negotiation.takeAnswers());
    } else {
      throw new LoginRefusal(2, 0x0b, `CSG ${h.csg} is not a login stage (RFC 7143 §11.12.3)`);
    }
    if (!this.#declaredPortalGroup && this.#sessionType === 'Normal') {
      this.#declaredPortalGroup = true;
      answers.push(['TargetPortalGroupTag', String(this.#context.portalGroupTag)]);
      if (this.#context.targetAlias) answers.push(['TargetAlias', this.#context.targetAlias]);
    }
    // Transit when the initiator asks and the stage's business is done (RFC 7143 §6.3).
    const transit =
      h.transit && (h.csg !== STAGE_SECURITY || !this.#mustAuthenticate() || this.#chapState === 'verified');
    if (h.transit && !transit && this.#chapState === 'none') {
      throw new LoginRefusal(
        2,
        0x01,
        'the initiator tried to leave the security stage without authenticating',
      );
    }
    const nsg = transit ? h.nsg : 0;
    if (transit && nsg !== STAGE_OPERATIONAL && nsg !== STAGE_FULL_FEATURE) {
      throw new LoginRefusal(2, 0x0b, `NSG ${nsg} is not a stage to go to (RFC 7143 §11.12.3)`);
    }
    let completed: CompletedLogin | undefined;
    let tsih = 0;
    if (transit && nsg === STAGE_FULL_FEATURE) {
      answers.push(['MaxRecvDataSegmentLength', String(this.#context.maxRecvDataSegmentLength)]);
      this.#negotiation.offer([['MaxRecvDataSegmentLength', String(this.#context.maxRecvDataSegmentLength)]]);
      this.#negotiation.finish();
      tsih = this.#context.allocateTsih({
        initiatorName: this.#initiatorName,
        isid: this.#isid,
        tsih: h.tsih,
      });
      completed = {
        sessionType: this.#sessionType,
        initiatorName: this.#initiatorName,
        ...(this.#initiatorAlias !== undefined ? { initiatorAlias: this.#initiatorAlias } : {}),
        isid: this.#isid,
        tsih,
        expCmdSN: this.#initialCmdSN,
        statSN: (this.#statSN + 1) >>> 0,
        ...(this.#chap?.username !== undefined ? { chapName: this.#chap.username } : {}),
        parameters: operationalParameters(this.#negotiation, 'login'),
      };
    }
    return {
      response: {
        header: this.#header(h, transit, h.csg, nsg, tsih, 0),
        data: encodeText(dedupe(answers)),
      },
      ...(completed ? { completed } : {}),
    };
  }

  /** A refusal's Login Response (no text). */
  refusal(request: Pdu<'LOGIN_REQUEST'>, refusal: LoginRefusal): LoginStep {
    const header = this.#header(request.header, false, request.header.csg, 0, 0, 0);
    return {
      response: {
        header: { ...header, statusClass: refusal.statusClass, statusDetail: refusal.statusDetail },
        data: new Uint8Array(0),
      },
    };
  }

  #mustAuthenticate(): boolean {
    if (this.#context.chap === undefined) return false;
    if (this.#sessionType === 'Discovery' && !this.#context.chapForDiscovery) return false;
    return this.#context.chapRequired || this.#authMethod === 'CHAP';
  }

  #header(
    h: Pdu<'LOGIN_REQUEST'>['header'],
    transit: boolean,
    csg: number,
    nsg: number,
    tsih: number,
    statusClass: number,
  ): Record<string, unknown> {
    const statSN = this.#statSN;
    this.#statSN = (this.#statSN + 1) >>> 0;
    return {
      transit,
      continue: false,
      csg,
      nsg,
      versionMax: 0,
      versionActive: 0,
      isid: h.isid,
      tsih,
      itt: h.itt,
      statSN,
      expCmdSN: this.#initialCmdSN,
      maxCmdSN: (this.#initialCmdSN + this.#context.commandWindow - 1) >>> 0,
      statusClass,
      statusDetail: 0,
    };
  }

  #checkFirst(h: Pdu<'LOGIN_REQUEST'>['header'], pairs: readonly (readonly [string, string])[]): void {
    const keys = new Map(pairs);
    const initiatorName = keys.get('InitiatorName');
    if (!initiatorName) throw new LoginRefusal(2, 0x07, 'InitiatorName is missing (RFC 7143 §13.5)');
    this.#initiatorName = initiatorName;
    this.#initiatorAlias = keys.get('InitiatorAlias');
    const sessionType = keys.get('SessionType') ?? 'Normal';
    if (sessionType !== 'Normal' && sessionType !== 'Discovery') {
      throw new LoginRefusal(2, 0x09, `SessionType=${sessionType} is not supported`);
    }
    this.#sessionType = sessionType;
    const targetName = keys.get('TargetName');
    if (sessionType === 'Normal') {
      if (!targetName) throw new LoginRefusal(2, 0x07, 'TargetName is missing (RFC 7143 §13.4)');
      if (targetName !== this.#context.targetName)
        throw new LoginRefusal(2, 0x03, `no target named ${targetName}`);
    }
    if (h.tsih !== 0) {
      // MaxConnections is 1: a TSIH names an existing session a connection cannot join.
      this.#context.allocateTsih({ initiatorName, isid: h.isid, tsih: h.tsih });
    }
  }

  #security(
    pairs: readonly (readonly [string, string])[],
    keys: Map<string, string>,
    answers: TextPair[],
  ): void {
    const auth = keys.get('AuthMethod');
    if (auth !== undefined) {
      const chapAllowed =
        this.#context.chap !== undefined &&
        (this.#sessionType === 'Normal' || this.#context.chapForDiscovery);
      const local = chapAllowed ? (this.#context.chapRequired ? 'CHAP' : 'CHAP,None') : 'None';
      const answer = answerOffer('AuthMethod', auth, local) ?? NegotiationAnswer.REJECT;
      answers.push(['AuthMethod', answer]);
      if (answer === NegotiationAnswer.REJECT) {
        throw new LoginRefusal(2, 0x01, `AuthMethod=${auth}: the target requires ${local}`);
      }
      this.#authMethod = answer;
      if (answer === 'CHAP') {
        this.#chap = this.#context.chap!();
        this.#chapState = 'offered';
      }
    } else if (this.#mustAuthenticate() && this.#chapState === 'none') {
      throw new LoginRefusal(2, 0x01, 'the target requires CHAP and the initiator offered no AuthMethod');
    }
    try {
      if (this.#chap !== undefined && this.#chapState === 'offered' && keys.has('CHAP_A')) {
        answers.push(...this.#chap.select(keys.get('CHAP_A')));
        this.#chapState = 'challenged';
      } else if (this.#chap !== undefined && this.#chapState === 'challenged' && keys.has('CHAP_N')) {
        answers.push(...this.#chap.verify(keys));
        this.#chapState = 'verified';
      }
    } catch (error) {
      if (error instanceof ChapAuthenticationError) throw new LoginRefusal(2, 0x01, error.message);
      throw error;
    }
    // Operational keys may come in the security stage too; answer them here (RFC 7143 §6.3).
    this.#negotiation.receive(
      pairs.filter(([k]) => !k.startsWith('CHAP_') && k !== 'AuthMethod' && !IDENTITY_KEYS.has(k)),
    );
    answers.push(...this.#negotiation.takeAnswers());
  }
}

const IDENTITY_KEYS = new Set(['InitiatorName', 'InitiatorAlias', 'TargetName', 'SessionType']);

function dedupe(pairs: TextPair[]): TextPair[] {
  const seen = new Set<string>();
  return pairs.filter(([k]) => {
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
