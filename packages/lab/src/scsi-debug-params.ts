/**
 * scsi_debug module parameters: the names and value rules of the Linux 6.1 module
 * (drivers/scsi/scsi_debug.c, version 0191, `modinfo -p`), parsing of the
 * `'name=value name=value'` text the command line takes, and the module arguments.
 * @module
 */
import { LabConfigError } from './errors.js';

/** scsi_debug parameters by module parameter name: integers (bools as 0/1) or short words. */
export type ScsiDebugParams = Readonly<Record<string, number | string>>;

type ParamRule =
  | { readonly kind: 'int'; readonly min?: number; readonly max?: number; readonly oneOf?: readonly number[] }
  | { readonly kind: 'bool' }
  | { readonly kind: 'word'; readonly maxLength: number };

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
/** SDEBUG_CANQUEUE = SDEBUG_CANQUEUE_WORDS (3) x BITS_PER_LONG (64) on x86-64. */
const SDEBUG_CANQUEUE = 192;
/** A plain `int` module parameter: the module itself judges the value at load time. */
const INT: ParamRule = { kind: 'int', min: INT32_MIN, max: INT32_MAX };

/**
 * Every parameter of the 6.1 module. Ranges are the module's own checks in
 * `scsi_debug_init` and the sysfs stores (sector_size: 512/1024/2048/4096 else -EINVAL;
 * max_queue: 1..SDEBUG_CANQUEUE; host_max_queue: 0..SDEBUG_CANQUEUE; dev_size_mb >= 1 after
 * defaulting; max_luns <= 16384). Other integers are plain `int` module parameters: any
 * 32-bit value passes here and the module's own checks apply at `modprobe` time (a refused
 * load fails the guest with its console log kept). Strings are limited to letters, digits, `_.-` so they pass
 * through the guest's shell unchanged (inq_vendor 8, inq_product 16, inq_rev 4 bytes as
 * in the INQUIRY data; zbc a short word).
 */
const RULES: Readonly<Record<string, ParamRule>> = {
  add_host: INT,
  ato: INT,
  cdb_len: INT,
  clustering: { kind: 'bool' },
  delay: INT,
  dev_size_mb: { kind: 'int', min: 1, max: INT32_MAX },
  dif: INT,
  dix: INT,
  dsense: INT,
  every_nth: INT,
  fake_rw: INT,
  guard: INT,
  host_lock: { kind: 'bool' },
  host_max_queue: { kind: 'int', min: 0, max: SDEBUG_CANQUEUE },
  inq_product: { kind: 'word', maxLength: 16 },
  inq_rev: { kind: 'word', maxLength: 4 },
  inq_vendor: { kind: 'word', maxLength: 8 },
  lbprz: INT,
  lbpu: INT,
  lbpws: INT,
  lbpws10: INT,
  lowest_aligned: INT,
  lun_format: INT,
  max_luns: { kind: 'int', min: 0, max: 16384 },
  max_queue: { kind: 'int', min: 1, max: SDEBUG_CANQUEUE },
  medium_error_count: INT,
  medium_error_start: INT,
  ndelay: INT,
  no_lun_0: INT,
  no_rwlock: { kind: 'bool' },
  no_uld: INT,
  num_parts: INT,
  num_tgts: INT,
  opt_blks: INT,
  opt_xferlen_exp: INT,
  opts: INT,
  per_host_store: { kind: 'bool' },
  physblk_exp: INT,
  poll_queues: INT,
  ptype: INT,
  random: { kind: 'bool' },
  removable: { kind: 'bool' },
  scsi_level: INT,
  sector_size: { kind: 'int', oneOf: [512, 1024, 2048, 4096] },
  statistics: { kind: 'bool' },
  strict: { kind: 'bool' },
  submit_queues: INT,
  tur_ms_to_ready: INT,
  unmap_alignment: INT,
  unmap_granularity: INT,
  unmap_max_blocks: { kind: 'int', min: 0, max: 0xffffffff },
  unmap_max_desc: INT,
  uuid_ctl: INT,
  virtual_gb: INT,
  vpd_use_hostno: INT,
  wp: { kind: 'bool' },
  write_same_length: INT,
  zbc: { kind: 'word', maxLength: 12 },
  zone_cap_mb: INT,
  zone_max_open: INT,
  zone_nr_conv: INT,
  zone_size_mb: INT,
};

/** The scsi_debug parameter names the lab accepts (all of the 6.1 module's). */
export const SCSI_DEBUG_PARAM_NAMES: readonly string[] = Object.keys(RULES);

const WORD = /^[A-Za-z0-9_.-]+$/;

/**
 * Checks one parameter and normalises its value: integers in decimal or `0x` hex,
 * booleans as `0`/`1`/`y`/`n` (the kernel's `param_set_bool` spellings, stored as 0/1).
 */
export function validateScsiDebugParam(name: string, value: number | string): number | string {
  const rule = RULES[name];
  const field = `scsi_debug.${name}`;
  if (!rule) {
    throw new LabConfigError(
      'scsi_debug',
      'a parameter of the 6.1 scsi_debug module (see modinfo scsi_debug)',
      name,
    );
  }
  if (rule.kind === 'word') {
    const text = String(value);
    if (!WORD.test(text) || text.length > rule.maxLength) {
      throw new LabConfigError(field, `1..${rule.maxLength} characters of [A-Za-z0-9_.-]`, value);
    }
    return text;
  }
  if (rule.kind === 'bool') {
    const text = String(value).toLowerCase();
    if (text === '1' || text === 'y' || text === 'true') return 1;
    if (text === '0' || text === 'n' || text === 'false') return 0;
    throw new LabConfigError(field, 'a boolean: 0, 1, y or n', value);
  }
  const number = typeof value === 'number' ? value : parseInteger(value);
  if (!Number.isSafeInteger(number)) throw new LabConfigError(field, 'an integer (decimal or 0x-hex)', value);
  if (rule.oneOf && !rule.oneOf.includes(number)) {
    throw new LabConfigError(field, `one of ${rule.oneOf.join(', ')}`, value);
  }
  if ((rule.min !== undefined && number < rule.min) || (rule.max !== undefined && number > rule.max)) {
    throw new LabConfigError(field, `an integer in ${rule.min}..${rule.max}`, value);
  }
  return number;
}

function parseInteger(text: string): number {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^-?\d+$/.test(t)) return Number.parseInt(t, 10);
  return Number.NaN;
}

/** Validates every entry of `params`, returning normalised values. */
export function validateScsiDebugParams(params: ScsiDebugParams): ScsiDebugParams {
  const out: Record<string, number | string> = {};
  for (const [name, value] of Object.entries(params)) out[name] = validateScsiDebugParam(name, value);
  return out;
}

/**
 * Parses `'dev_size_mb=64 sector_size=4096 opts=0x10'` (whitespace-separated `name=value`
 * pairs, as `modprobe` takes them). A later pair for the same name wins.
 */
export function parseScsiDebugParams(text: string): ScsiDebugParams {
  const out: Record<string, number | string> = {};
  for (const pair of text.split(/\s+/).filter((p) => p.length > 0)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new LabConfigError('scsi_debug', "whitespace-separated 'name=value' pairs", pair);
    }
    const name = pair.slice(0, eq);
    out[name] = validateScsiDebugParam(name, pair.slice(eq + 1));
  }
  return out;
}

/** The parameters as `modprobe scsi_debug` arguments (`name=value`, in insertion order). */
export function scsiDebugModuleArguments(params: ScsiDebugParams): string[] {
  return Object.entries(params).map(([name, value]) => `${name}=${value}`);
}

/** The parameters as the one-line text {@link parseScsiDebugParams} reads back. */
export function formatScsiDebugParams(params: ScsiDebugParams): string {
  return scsiDebugModuleArguments(params).join(' ');
}
