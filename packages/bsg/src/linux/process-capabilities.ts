/**
 * The calling process's effective capabilities, from `CapEff` in /proc/self/status
 * (fs/proc/array.c `render_cap_t`: a 64-bit mask in hex), for the permission pre-check
 * (CAP_SYS_RAWIO) and SG_SCSI_RESET (CAP_SYS_ADMIN and CAP_SYS_RAWIO).
 * @module
 */
import { readFileSync } from 'node:fs';

/** Capability numbers (include/uapi/linux/capability.h). */
export const Capability = {
  /** CAP_SYS_RAWIO: any SCSI command through SG_IO (scsi_cmd_allowed). */
  SYS_RAWIO: 17,
  /** CAP_SYS_ADMIN: with CAP_SYS_RAWIO, SG_SCSI_RESET (scsi_ioctl_reset). */
  SYS_ADMIN: 21,
} as const;

let cached: bigint | undefined;

/** The effective capability mask; 0 when /proc is unreadable (assume none). */
export function effectiveCapabilities(statusText?: string): bigint {
  if (statusText === undefined && cached !== undefined) return cached;
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'latin1');
    } catch {
      text = '';
    }
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(text);
  const mask = m?.[1] ? BigInt(`0x${m[1]}`) : 0n;
  if (statusText === undefined) cached = mask;
  return mask;
}

/** True when the process has capability `cap` in its effective set. */
export function hasCapability(cap: number, statusText?: string): boolean {
  return ((effectiveCapabilities(statusText) >> BigInt(cap)) & 1n) === 1n;
}
