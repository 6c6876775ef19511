/** The `sgv4` command tree. Each capability adds its command module here. */
import type { Command } from '../framework/command.js';
import { cdbCommand } from './cdb.js';
import { ddCommand } from './dd.js';
import { demoCommand } from './demo.js';
import { headerCommand } from './header.js';
import { inquiryCommand } from './inquiry.js';
import { labCommand } from './lab.js';
import { limitsCommand } from './limits.js';
import { listCommand } from './list.js';
import { permCommand } from './perm.js';
import { planCommand } from './plan.js';
import { rawCommand } from './raw.js';
import { readCommand } from './read.js';
import { readcapCommand } from './readcap.js';
import { senseCommand } from './sense.js';
import { targetCommand } from './target.js';
import { turCommand } from './tur.js';
import { writeCommand } from './write.js';

/** Top-level commands, in the order `sgv4 --help` lists them. */
export const commands: readonly Command[] = [
  demoCommand,
  labCommand,
  permCommand,
  headerCommand,
  senseCommand,
  cdbCommand,
  rawCommand,
  limitsCommand,
  planCommand,
  targetCommand,
  // Device commands (@sgv4/bsg).
  listCommand,
  inquiryCommand,
  readcapCommand,
  turCommand,
  readCommand,
  writeCommand,
  ddCommand,
];

/** The root of the tree: `sgv4` itself. */
export const rootCommand: Command = {
  name: 'sgv4',
  summary:
    'Linux SCSI pass-through (sg, bsg) from TypeScript: prototype of the sgv4 interface and device access.',
  details:
    'Exit statuses follow sg3_utils: 0 ok, 1 syntax error, 2..41 SCSI categories (e.g. 3 medium/hardware error,\n5 illegal request, 33 timeout), 50+errno OS errors, 97 malformed response, 99 other.',
  subcommands: commands,
};
