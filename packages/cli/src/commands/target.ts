/** `sgv4 target serve --iscsi ...`: the embedded SCSI target served to iSCSI initiators. */
import { hexByte } from '@sgv4/core';
import { formatPortal, serveIscsiTarget } from '@sgv4/iscsi';
import type { Command } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';

const targetServeCommand: Command = {
  name: 'serve',
  summary: 'serve the embedded target (@sgv4/target) to iSCSI initiators until interrupted',
  usage: '--iscsi HOST[:PORT] --iqn IQN --lun SPEC [--lun SPEC ...] [CHAP options]',
  details: [
    'LUN specs, LUN 0 first: mem:SIZE (sparse memory, e.g. mem:64M) or file:PATH (a raw image; its',
    'size when it exists, else 64 MiB), optionally followed by ,size=SIZE and ,bs=512|4096.',
    'With --chap-user/--chap-secret initiators must log in with CHAP; add --target-chap-user and',
    '--target-chap-secret for mutual CHAP. Logins and logouts are reported on stderr. SIGINT or',
    'SIGTERM ends every session (an I_T nexus loss for each), flushes file-backed LUs and exits.',
    '',
    'Example: sgv4 target serve --iscsi 127.0.0.1:3260 --iqn iqn.2026-11.dev.sgv4:disk0 --lun mem:64M',
    '         iscsi-inq iscsi://127.0.0.1:3260/iqn.2026-11.dev.sgv4:disk0/0',
  ].join('\n'),
  options: {
    iscsi: {
      type: 'string',
      valueName: 'HOST[:PORT]',
      description: 'address of the iSCSI portal (port 3260 by default)',
    },
    iqn: { type: 'string', valueName: 'IQN', description: "the target's iSCSI name" },
    lun: {
      type: 'string',
      multiple: true,
      valueName: 'SPEC',
      description: 'a logical unit: mem:SIZE or file:PATH[,size=SIZE][,bs=512|4096]',
    },
    'chap-user': { type: 'string', valueName: 'NAME', description: 'CHAP name initiators must log in with' },
    'chap-secret': { type: 'string', valueName: 'SECRET', description: 'its secret' },
    'target-chap-user': { type: 'string', valueName: 'NAME', description: 'the target name for mutual CHAP' },
    'target-chap-secret': {
      type: 'string',
      valueName: 'SECRET',
      description: 'the target secret for mutual CHAP',
    },
  },
  async run(invocation, io) {
    const address = invocation.string('iscsi');
    if (address === undefined) throw new UsageError('missing --iscsi HOST[:PORT]: the portal address');
    const iqn = invocation.requireString('iqn');
    const luns = invocation.strings('lun');
    if (luns.length === 0) throw new UsageError('missing --lun SPEC: at least LUN 0 (e.g. --lun mem:64M)');
    const user = invocation.string('chap-user');
    const secret = invocation.string('chap-secret');
    if ((user === undefined) !== (secret === undefined)) {
      throw new UsageError('--chap-user and --chap-secret go together');
    }
    const targetUser = invocation.string('target-chap-user');
    const targetSecret = invocation.string('target-chap-secret');
    if (
      (targetUser === undefined) !== (targetSecret === undefined) ||
      (targetUser !== undefined && user === undefined)
    ) {
      throw new UsageError('--target-chap-user and --target-chap-secret go together, and need --chap-user');
    }
    const served = await serveIscsiTarget({
      address,
      iqn,
      luns,
      ...(user !== undefined && secret !== undefined
        ? {
            chap: {
              accounts: { [user]: secret },
              ...(targetUser !== undefined && targetSecret !== undefined
                ? { targetCredentials: { username: targetUser, secret: targetSecret } }
                : {}),
            },
          }
        : {}),
    });
    const { host, port } = served.portal.address;
    const portal = formatPortal(host, port);
    for (const lun of served.target.luns) {
      const d = served.target.describe(lun);
      const bytes = BigInt(d.capacityBlocks) * BigInt(d.blockSize);
      const where = d.backing.kind === 'file' ? d.backing.path : 'memory';
      io.stdout.write(
        `iscsi://${portal}/${iqn}/${lun}  ${bytes >> 20n} MiB, ${d.blockSize}-byte blocks, ${where}\n`,
      );
    }
    served.portal.on('login', (s) =>
      io.stderr.write(`login: ${s.nexus.initiator} (${s.sessionType}, TSIH ${s.tsih}) from ${s.peer}\n`),
    );
    served.portal.on('loginRefused', (r) =>
      io.stderr.write(
        `login refused: ${r.peer}: ${r.reason} (status ${r.statusClass}/${hexByte(r.statusDetail)})\n`,
      ),
    );
    served.portal.on('sessionEnded', (s) =>
      io.stderr.write(`session ended: ${s.nexus.initiator}: ${s.reason}\n`),
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await served.close();
    io.stderr.write('target serve: closed\n');
    return 0;
  },
};

/** `sgv4 target`: the embedded SCSI target. */
export const targetCommand: Command = {
  name: 'target',
  summary: 'the embedded SCSI target (@sgv4/target), served over iSCSI',
  details: 'See docs/guides/target.md (the target) and docs/guides/iscsi.md (the portal).',
  subcommands: [targetServeCommand],
};
