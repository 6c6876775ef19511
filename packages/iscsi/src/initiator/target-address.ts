/**
 * TargetAddress values (RFC 7143 §13.8): `domainname[:port][,portal-group-tag]`, an IPv6
 * address in brackets, as SendTargets answers carry them (§13.3, Appendix C).
 * @module
 */
import { IscsiProtocolError } from '../errors.js';
import { ISCSI_DEFAULT_PORT } from '../url/iscsi-url.js';

/** One portal of a target. */
export interface TargetPortal {
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port (3260 when the value gives none). */
  readonly port: number;
  /** The portal group tag, when given. */
  readonly portalGroupTag?: number;
}

/** Parses one TargetAddress value; IscsiProtocolError when it is not one. */
export function parseTargetAddress(value: string): TargetPortal {
  const comma = value.lastIndexOf(',');
  const hasTag = comma >= 0 && (value.startsWith('[') ? comma > value.indexOf(']') : true);
  const address = hasTag ? value.slice(0, comma) : value;
  const tagText = hasTag ? value.slice(comma + 1) : undefined;
  let host: string;
  let portText: string | undefined;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (close < 0 || (rest !== '' && !rest.startsWith(':'))) {
      throw new IscsiProtocolError(`TargetAddress=${value}`, 'is not [ipv6][:port][,tag] (RFC 7143 §13.8)');
    }
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = address.lastIndexOf(':');
    host = colon < 0 ? address : address.slice(0, colon);
    portText = colon < 0 ? undefined : address.slice(colon + 1);
  }
  const port = portText === undefined ? ISCSI_DEFAULT_PORT : Number(portText);
  const tag = tagText === undefined ? undefined : Number(tagText);
  if (
    host === '' ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535 ||
    (portText !== undefined && !/^[0-9]+$/.test(portText)) ||
    (tagText !== undefined && (!/^[0-9]+$/.test(tagText) || tag! > 65535))
  ) {
    throw new IscsiProtocolError(
      `TargetAddress=${value}`,
      'is not host[:port][,portal-group-tag] (RFC 7143 §13.8)',
    );
  }
  return { host, port, ...(tag !== undefined ? { portalGroupTag: tag } : {}) };
}

/** A target a SendTargets answer lists. */
export interface DiscoveredTarget {
  /** Its iSCSI name. */
  readonly targetName: string;
  /** Its portals (none listed means "the portal you asked", RFC 7143 Appendix C). */
  readonly portals: readonly TargetPortal[];
}

/**
 * Groups a SendTargets answer: each TargetName starts a target and the TargetAddress keys
 * after it are its portals (RFC 7143 Appendix C). A TargetAddress before any TargetName, or
 * any other key, is a protocol error.
 */
export function parseSendTargets(pairs: readonly (readonly [string, string])[]): DiscoveredTarget[] {
  const out: { targetName: string; portals: TargetPortal[] }[] = [];
  for (const [key, value] of pairs) {
    if (key === 'TargetName') out.push({ targetName: value, portals: [] });
    else if (key === 'TargetAddress' && out.length > 0)
      out[out.length - 1]!.portals.push(parseTargetAddress(value));
    else if (key === 'TargetAlias') continue;
    else
      throw new IscsiProtocolError(
        `SendTargets answer: ${key}=${value}`,
        'only TargetName and TargetAddress belong here (RFC 7143 §13.3)',
      );
  }
  return out;
}
