/**
 * iSCSI-specific errors. Everything else uses `@sgv4/core`'s family: InvalidFieldError for bad
 * input, MalformedDataError for bytes that do not decode, TimeoutError, AbortedError,
 * NotSupportedError, and TransportError (host byte) for a command the transport lost.
 * @module
 */
import {
  ExitStatus,
  exitStatusForErrno,
  HostStatus,
  hexByte,
  Sgv4Error,
  type Sgv4ErrorOptions,
  TransportError,
} from '@sgv4/core';

/**
 * The peer broke a rule of the protocol: an unexpected opcode, a sequence number out of order,
 * a length above the negotiated limit, a negotiation answer the rules do not allow. The message
 * names the rule and where it is written (RFC 7143 section). Exit status MALFORMED (97), as
 * sg3_utils reports a response it cannot make sense of. At ErrorRecoveryLevel 0 the only
 * recovery is to drop the connection (RFC 7143 §7.1.4.3), so the session does.
 */
export class IscsiProtocolError extends Sgv4Error {
  /** The rule that was broken, with its RFC section. */
  readonly rule: string;

  /** `what` says what arrived, `rule` what the protocol requires. */
  constructor(what: string, rule: string, options: Sgv4ErrorOptions = {}) {
    super(`${what}: ${rule}`, ExitStatus.MALFORMED, options);
    this.rule = rule;
  }
}

/** A header or data digest did not match (RFC 7143 §7.8: at ErrorRecoveryLevel 0 the connection is dropped). */
export class IscsiDigestError extends IscsiProtocolError {
  /** Which digest failed. */
  readonly digest: 'header' | 'data';
  /** The digest the bytes have. */
  readonly computed: number;
  /** The digest the PDU carried. */
  readonly received: number;

  /** See the class description. */
  constructor(digest: 'header' | 'data', computed: number, received: number, pdu: string) {
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    super(
      `${pdu}: ${digest} digest mismatch (computed ${hex(computed)}, received ${hex(received)})`,
      'RFC 7143 §7.8: a PDU whose digest fails is discarded, and at ErrorRecoveryLevel 0 the connection is dropped',
    );
    this.digest = digest;
    this.computed = computed;
    this.received = received;
  }
}

/** Login Status-Class values (RFC 7143 §11.13.5). */
export const LoginStatusClass = {
  SUCCESS: 0,
  REDIRECTION: 1,
  INITIATOR_ERROR: 2,
  TARGET_ERROR: 3,
} as const;

const LOGIN_STATUS_TEXT: Readonly<Record<number, string>> = {
  0: 'success',
  257: 'target moved temporarily',
  258: 'target moved permanently',
  512: 'initiator error',
  513: 'authentication failure',
  514: 'authorization failure',
  515: 'target not found',
  516: 'target removed',
  517: 'unsupported version',
  518: 'too many connections',
  519: 'missing parameter',
  520: 'cannot include connection in session',
  521: 'session type not supported',
  522: 'session does not exist',
  523: 'invalid request during login',
  768: 'target error',
  769: 'service unavailable',
  770: 'out of resources',
};

const LOGIN_CLASS_TEXT = ['success', 'redirection', 'initiator error', 'target error'];

/** The RFC 7143 §11.13.5 text for a Status-Class/Status-Detail pair, e.g. `authentication failure`. */
export function loginStatusText(statusClass: number, statusDetail: number): string {
  return (
    LOGIN_STATUS_TEXT[(statusClass << 8) | statusDetail] ??
    `${LOGIN_CLASS_TEXT[statusClass] ?? `status class ${statusClass}`} (detail ${hexByte(statusDetail)})`
  );
}

/**
 * The target refused the login (a Login Response with a non-zero Status-Class), or the
 * login could not complete (CHAP failed on our side, the target's answers broke the rules).
 * Exit status 63 (50 + EACCES) for authentication and authorization failures (class 2,
 * details 1 and 2), so scripts can tell wrong credentials apart, else OTHER (99).
 * The message names the status class and detail, e.g.
 * `login to iqn.2026-11.test:disk1 at 127.0.0.1:3260 refused: authentication failure (status class 2 initiator error, detail 0x01)`.
 */
export class IscsiLoginError extends Sgv4Error {
  /** Status-Class (0 when the failure was detected on the initiator's side). */
  readonly statusClass: number;
  /** Status-Detail. */
  readonly statusDetail: number;
  /** The RFC's text for the pair. */
  readonly statusText: string;
  /** The target name (empty for a discovery session). */
  readonly targetName: string;
  /** `host:port`. */
  readonly portal: string;
  /** For a redirection: the TargetAddress the target gave. */
  readonly targetAddress?: string;

  /** See the class description; `reason` replaces the status text when the initiator gave up. */
  constructor(
    details: {
      statusClass: number;
      statusDetail: number;
      targetName: string;
      portal: string;
      targetAddress?: string;
      reason?: string;
    },
    options: Sgv4ErrorOptions = {},
  ) {
    const text = loginStatusText(details.statusClass, details.statusDetail);
    const who = `login to ${details.targetName || 'discovery session'} at ${details.portal}`;
    super(
      details.reason !== undefined
        ? `${who} failed: ${details.reason}`
        : `${who} refused: ${text} (status class ${details.statusClass} ${LOGIN_CLASS_TEXT[details.statusClass] ?? 'unknown'}, detail ${hexByte(details.statusDetail)})${details.targetAddress ? `; TargetAddress=${details.targetAddress}` : ''}`,
      details.statusClass === LoginStatusClass.INITIATOR_ERROR &&
        (details.statusDetail === 1 || details.statusDetail === 2)
        ? exitStatusForErrno(13) // EACCES: the credentials or the ACL refused us
        : ExitStatus.OTHER,
      options,
    );
    this.statusClass = details.statusClass;
    this.statusDetail = details.statusDetail;
    this.statusText = details.reason ?? text;
    this.targetName = details.targetName;
    this.portal = details.portal;
    if (details.targetAddress !== undefined) this.targetAddress = details.targetAddress;
  }
}

/** Reject reasons (RFC 7143 §11.17.1). */
export const RejectReason = {
  DATA_DIGEST_ERROR: 0x02,
  SNACK_REJECT: 0x03,
  PROTOCOL_ERROR: 0x04,
  COMMAND_NOT_SUPPORTED: 0x05,
  IMMEDIATE_COMMAND_REJECT: 0x06,
  TASK_IN_PROGRESS: 0x07,
  INVALID_DATA_ACK: 0x08,
  INVALID_PDU_FIELD: 0x09,
  LONG_OPERATION_REJECT: 0x0a,
  DEPRECATED: 0x0b,
  WAITING_FOR_LOGOUT: 0x0c,
} as const;

/** `PROTOCOL ERROR` for 0x04, `reason 0x..` for codes RFC 7143 does not define. */
export function rejectReasonName(reason: number): string {
  const hit = Object.entries(RejectReason).find(([, code]) => code === reason);
  return hit ? hit[0].replace(/_/g, ' ') : `reason ${hexByte(reason)}`;
}

/** The target rejected a PDU with a Reject PDU (RFC 7143 §11.17). Exit status OTHER (99). */
export class IscsiRejectError extends Sgv4Error {
  /** The reason code. */
  readonly reason: number;
  /** Its name, e.g. `COMMAND NOT SUPPORTED`. */
  readonly reasonName: string;

  /** `what` names the rejected PDU, e.g. `SCSI Command tag 7`. */
  constructor(what: string, reason: number, options: Sgv4ErrorOptions = {}) {
    const reasonName = rejectReasonName(reason);
    super(`${what}: rejected by the target (${reasonName})`, ExitStatus.OTHER, options);
    this.reason = reason;
    this.reasonName = reasonName;
  }
}

/**
 * A command was lost with its connection: the TCP connection closed or failed, a digest
 * failed, the peer broke the protocol, or keepalive went unanswered, and the command's status
 * never arrived. Like Linux's iSCSI initiator, this is a transport error with host byte
 * DID_TRANSPORT_DISRUPTED (drivers/scsi/libiscsi.c `iscsi_conn_stop` -> `fail_scsi_tasks`), exit status 35; the
 * connection's own failure is the `cause`. A write that fails this way may or may not have
 * reached the medium: its data is never reported written.
 */
export class IscsiConnectionLostError extends TransportError {
  /** `host:port` of the connection. */
  readonly portal: string;

  /** `reason` says what happened, e.g. `connection reset by peer (ECONNRESET)`. */
  constructor(portal: string, reason: string, options: Sgv4ErrorOptions = {}) {
    super(HostStatus.DID_TRANSPORT_DISRUPTED, 0, options);
    this.message = `iSCSI connection to ${portal} lost: ${reason} (${this.message})`;
    this.portal = portal;
  }
}
