import {
  formatScsiDebugParams,
  LabConfigError,
  parseScsiDebugParams,
  resolveGuestConfig,
  SCSI_DEBUG_PARAM_NAMES,
  scsiDebugModuleArguments,
} from '@sgv4/lab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function configError(run: () => unknown): LabConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof LabConfigError) return error;
    throw error;
  }
  throw new Error('expected a LabConfigError');
}

describe('--scsi-debug parsing', () => {
  it('reads whitespace-separated name=value pairs, hex included, later pairs winning', () => {
    expect(
      parseScsiDebugParams('  dev_size_mb=16\tsector_size=4096 opts=0x10  every_nth=-3 opts=0x4 '),
    ).toEqual({
      dev_size_mb: 16,
      sector_size: 4096,
      opts: 4,
      every_nth: -3,
    });
    expect(parseScsiDebugParams('')).toEqual({});
  });

  it('normalises booleans to 0/1 and keeps short words', () => {
    expect(parseScsiDebugParams('random=y statistics=0 inq_vendor=ACME inq_rev=1.0')).toEqual({
      random: 1,
      statistics: 0,
      inq_vendor: 'ACME',
      inq_rev: '1.0',
    });
  });

  it('names the field and the rule for each kind of bad input', () => {
    expect(configError(() => parseScsiDebugParams('sector_size=1000'))).toMatchObject({
      field: 'scsi_debug.sector_size',
      rule: 'one of 512, 1024, 2048, 4096',
    });
    expect(configError(() => parseScsiDebugParams('max_queue=193')).rule).toBe('an integer in 1..192');
    expect(configError(() => parseScsiDebugParams('dev_size_mb=0')).field).toBe('scsi_debug.dev_size_mb');
    expect(configError(() => parseScsiDebugParams('delay=soon')).rule).toBe('an integer (decimal or 0x-hex)');
    expect(configError(() => parseScsiDebugParams('random=maybe')).rule).toBe('a boolean: 0, 1, y or n');
    expect(configError(() => parseScsiDebugParams('inq_vendor=TOOLONGNAME')).field).toBe(
      'scsi_debug.inq_vendor',
    );
    expect(configError(() => parseScsiDebugParams("inq_product=a'b")).field).toBe('scsi_debug.inq_product');
    expect(configError(() => parseScsiDebugParams('no_such=1')).field).toBe('scsi_debug');
    expect(configError(() => parseScsiDebugParams('dev_size_mb')).rule).toBe(
      "whitespace-separated 'name=value' pairs",
    );
    expect(configError(() => parseScsiDebugParams('=5')).field).toBe('scsi_debug');
  });

  it('round-trips any valid integer parameters through the module-argument text', () => {
    const intNames = SCSI_DEBUG_PARAM_NAMES.filter(
      (n) =>
        ![
          'sector_size',
          'max_queue',
          'host_max_queue',
          'dev_size_mb',
          'max_luns',
          'unmap_max_blocks',
        ].includes(n) &&
        !n.startsWith('inq_') &&
        n !== 'zbc' &&
        ![
          'clustering',
          'host_lock',
          'no_rwlock',
          'per_host_store',
          'random',
          'removable',
          'statistics',
          'strict',
          'wp',
        ].includes(n),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...intNames), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
        (params) => {
          const text = formatScsiDebugParams(params);
          expect(parseScsiDebugParams(text)).toEqual(params);
          expect(scsiDebugModuleArguments(params).join(' ')).toBe(text);
        },
      ),
    );
  });
});

describe('guest configuration', () => {
  it('fills the documented defaults', () => {
    expect(resolveGuestConfig()).toEqual({
      scsiDebug: { dev_size_mb: 64, num_tgts: 1, max_luns: 1 },
      sg: { allowDio: false },
      memoryMb: 2048,
      cpus: 2,
      accel: 'tcg',
    });
  });

  it('merges scsi_debug settings over the defaults and checks the rest', () => {
    const config = resolveGuestConfig({
      scsiDebug: { sector_size: 4096, max_luns: 2 },
      sgDefReservedSize: 65536,
    });
    expect(config.scsiDebug).toEqual({ dev_size_mb: 64, num_tgts: 1, max_luns: 2, sector_size: 4096 });
    expect(config.sg).toEqual({ allowDio: false, defReservedSize: 65536 });
    expect(configError(() => resolveGuestConfig({ memoryMb: 100 }))).toMatchObject({
      field: 'memoryMb',
      rule: 'an integer in 256..65536',
    });
    expect(configError(() => resolveGuestConfig({ cpus: 0 })).field).toBe('cpus');
    expect(configError(() => resolveGuestConfig({ accel: 'xen' as 'tcg' })).field).toBe('accel');
  });
});
