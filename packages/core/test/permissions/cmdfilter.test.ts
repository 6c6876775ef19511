/**
 * The sysfs cmd_filter text format (block/cmd-filter.c rcf_cmds_show/rcf_cmds_store), the
 * cmdfilter document and the table registry.
 */
import {
  BLK_FILTER_5_14_TABLE,
  CmdFilterSyntaxError,
  decidePermission,
  formatCmdFilterDocument,
  InvalidFieldError,
  LINUX_6_1_TABLE,
  PermissionTableRegistry,
  parseCmdFilterDocument,
  SGV4_PROPOSAL_TABLE,
  showCmdFilter,
  storeCmdFilter,
} from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('showCmdFilter (rcf_cmds_show)', () => {
  it('prints 0x%02x each followed by a space, then a newline', () => {
    expect(showCmdFilter([0x28, 0x00, 0x12])).toBe('0x00 0x12 0x28 \n');
    expect(showCmdFilter([0xfe, 0xff])).toBe('0xfe 0xff\n');
    expect(showCmdFilter([])).toBe('');
  });
});

describe('storeCmdFilter (rcf_cmds_store)', () => {
  it('sets plain and + tokens, clears - tokens, starting from the current bitmap', () => {
    expect(storeCmdFilter('read_table', '0x28 +2a -0x00', [0x00, 0x12])).toEqual([0x12, 0x28, 0x2a]);
  });

  it('reproduces simple_strtol: trailing garbage ignored, bare 0x is 0, newline ends a token', () => {
    expect(storeCmdFilter('read_table', '28h', [])).toEqual([0x28]);
    expect(storeCmdFilter('read_table', 'bogus', [])).toEqual([0x0b]);
    expect(storeCmdFilter('read_table', '0x', [])).toEqual([0x00]);
    expect(storeCmdFilter('write_table', '0x85\n', [])).toEqual([0x85]);
    expect(storeCmdFilter('write_table', '0X8A', [])).toEqual([0x8a]);
  });

  it('fails the whole write with EINVAL on a bad token, naming attribute and token', () => {
    const bad = ['zz', '', '0x100', '0x28  0x2a', '0x28 \n', '++1', '+-5'];
    for (const text of bad) {
      expect(() => storeCmdFilter('read_table', text, []), JSON.stringify(text)).toThrow(
        CmdFilterSyntaxError,
      );
    }
    try {
      storeCmdFilter('write_table', '0x2a zz', []);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidFieldError);
      expect(error).toMatchObject({
        errno: 22,
        code: 'EINVAL',
        token: 'zz',
        tokenIndex: 1,
        field: 'write_table token 1',
      });
    }
  });

  it("the kernel's own show output does not store back verbatim (trailing ' \\n'), trimmed it does", () => {
    const shown = showCmdFilter(LINUX_6_1_TABLE.readTable());
    expect(() => storeCmdFilter('read_table', shown, [])).toThrow(CmdFilterSyntaxError);
    expect(storeCmdFilter('read_table', shown.trim(), [])).toEqual(LINUX_6_1_TABLE.readTable());
  });

  it('show then store of any opcode set round-trips', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 255 })), (ops) => {
        const text = showCmdFilter(ops).trim();
        expect(text === '' ? [] : storeCmdFilter('read_table', text, [])).toEqual(
          [...ops].sort((a, b) => a - b),
        );
      }),
    );
  });
});

describe('cmdfilter documents', () => {
  it('print then parse gives the same bitmaps for every built-in table', () => {
    for (const table of [LINUX_6_1_TABLE, BLK_FILTER_5_14_TABLE, SGV4_PROPOSAL_TABLE]) {
      const parsed = parseCmdFilterDocument(formatCmdFilterDocument(table));
      expect(parsed.name).toBe(table.name);
      expect(parsed.readTable()).toEqual(table.readTable());
      expect(parsed.writeTable()).toEqual(table.writeTable());
    }
    expect(formatCmdFilterDocument(SGV4_PROPOSAL_TABLE)).toContain('refinements are not expressible');
  });

  it('applies edits to a base table and keeps its names', () => {
    const t = parseCmdFilterDocument(
      '# allow ATA-16 for writers\nname: ata16\nbase: linux-6.1\nwrite_table: +0x85 -0x04\n',
    );
    expect(t.name).toBe('ata16');
    expect(t.opcodeClass(0x85)).toBe('write-safe');
    expect(t.opcodeClass(0x04)).toBe('privileged');
    expect(t.opcodeName(0x12)).toBe('INQUIRY');
  });

  it('rejects unknown keys, missing colons and unknown bases with the line', () => {
    expect(() => parseCmdFilterDocument('colour: red')).toThrow(
      /line 1: key must be name, base, read_table or write_table/,
    );
    expect(() => parseCmdFilterDocument('\nread_table 0x12')).toThrow(/line 2: must be "key: value"/);
    expect(() => parseCmdFilterDocument('base: linux-2.4')).toThrow(/base: must name a built-in table/);
    expect(() => parseCmdFilterDocument('read_table: 0x12 zz')).toThrow(CmdFilterSyntaxError);
  });
});

describe('PermissionTableRegistry', () => {
  it('resolves disk over queue over device over the default', () => {
    const reg = new PermissionTableRegistry();
    const target = { device: '0:0:0:0', queue: 'q0', disk: 'sda' };
    expect(reg.resolve(target)).toEqual({ table: LINUX_6_1_TABLE, from: 'default' });
    reg.attach('device', '0:0:0:0', BLK_FILTER_5_14_TABLE);
    expect(reg.resolve(target).from).toBe('device');
    reg.attach('disk', 'sda', SGV4_PROPOSAL_TABLE);
    expect(reg.resolve(target)).toEqual({ table: SGV4_PROPOSAL_TABLE, from: 'disk' });
    // sg and bsg do not go through the disk
    expect(reg.resolve({ device: '0:0:0:0', queue: 'q0' }).from).toBe('device');
    expect(reg.detach('disk', 'sda')).toBe(true);
    expect(reg.resolve(target).from).toBe('device');
  });

  it('a cmdfilter write inherits from the level above and attaches the result', () => {
    const reg = new PermissionTableRegistry();
    const target = { device: '0:0:0:0', queue: 'q0', disk: 'sda' };
    const t = reg.writeCmdFilter(target, 'queue', 'write_table', '+0x3b');
    expect(t.name).toBe('linux-6.1@queue:q0');
    expect(reg.resolve(target).table.opcodeClass(0x3b)).toBe('write-safe');
    const cdb = new Uint8Array([0x3b, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const d = decidePermission({
      cdb,
      iface: 'bsg',
      openMode: 'read-write',
      capSysRawio: false,
      table: reg.resolve(target).table,
    });
    expect(d).toMatchObject({ allowed: true, table: 'linux-6.1@queue:q0' });
    // a bad write leaves the registry unchanged
    expect(() => reg.writeCmdFilter(target, 'queue', 'read_table', 'x')).toThrow(CmdFilterSyntaxError);
    expect(reg.resolve(target).table).toBe(t);
    expect(() => reg.writeCmdFilter({ device: 'd' }, 'disk', 'read_table', '0x12')).toThrow(/target\.disk/);
  });
});
