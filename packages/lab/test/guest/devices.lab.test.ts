import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { isInLab, labDeviceNodes } from '@sgv4/lab';
import { describe, expect, it } from 'vitest';

describe('the lab guest', () => {
  it('runs with SGV4_LAB=1 and the scsi_debug settings in the environment', () => {
    expect(isInLab()).toBe(true);
    expect(process.env.SGV4_LAB_SCSI_DEBUG).toMatch(/dev_size_mb=\d+/);
  });

  it('has one scsi_debug disk with sg, bsg and block nodes', () => {
    const nodes = labDeviceNodes();
    expect(nodes.sg).toEqual(['/dev/sg0']);
    expect(nodes.bsg).toEqual(['/dev/bsg/0:0:0:0']);
    expect(nodes.block).toEqual(['/dev/sda']);
  });

  it('lets sg3_utils inquire through sg and through bsg', () => {
    for (const node of ['/dev/sg0', '/dev/bsg/0:0:0:0']) {
      const out = execFileSync('sg_inq', [node], { encoding: 'utf8' });
      expect(out).toMatch(/Vendor identification: Linux/);
      expect(out).toMatch(/Product identification: scsi_debug/);
    }
  });

  it('lets Node open /dev/bsg/0:0:0:0 as a character device', () => {
    const fd = openSync('/dev/bsg/0:0:0:0', 'r+');
    try {
      const stat = fstatSync(fd);
      expect(stat.isCharacterDevice()).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('exposes the queue limits of the scsi_debug disk in sysfs', () => {
    const queue = (name: string) => readFileSync(`/sys/block/sda/queue/${name}`, 'utf8').trim();
    // scsi_debug's host template: sg_tablesize SG_MAX_SEGMENTS, max_sectors and
    // max_segment_size -1U; sd caps max_sectors_kb; dev_size_mb=64 at 512-byte sectors.
    expect(queue('max_segments')).toBe('2048');
    expect(queue('max_segment_size')).toBe('4294967295');
    expect(queue('logical_block_size')).toBe('512');
    expect(Number(queue('max_hw_sectors_kb'))).toBeGreaterThanOrEqual(Number(queue('max_sectors_kb')));
    expect(readFileSync('/sys/block/sda/size', 'utf8').trim()).toBe(String((64 * 1024 * 1024) / 512));
  });
});
