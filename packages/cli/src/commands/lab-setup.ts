/** `sgv4 lab setup`: make this machine ready to boot lab guests. */
import { LabProgress, setupLab } from '@sgv4/lab';
import type { Command } from '../framework/command.js';
import { printJson, printLine } from '../framework/output.js';

export const labSetupCommand: Command = {
  name: 'setup',
  summary: 'check (and as root install) QEMU, the kernel, busybox-static and sg3-utils; build the initramfs',
  usage: '[--no-install] [--json]',
  details: [
    'Looks for qemu-system-x86_64, a Debian kernel whose modules include sg and scsi_debug, a static',
    'busybox (busybox-static), sg3-utils and kmod. When something is missing: as root it runs',
    "'apt-get update' and 'apt-get install -y --no-install-recommends <packages>'; otherwise it prints",
    'the one command to run and exits with status 15. Then it builds the guest initramfs, or reuses the',
    'cached one when kernel, modules, busybox and init script are unchanged.',
    '',
    'JSON fields: kernel (version), kernelImage, qemu, busybox, installed (packages installed now),',
    'initramfs { path, key, built (true when built by this run) }.',
  ].join('\n'),
  json: true,
  options: {
    'no-install': { type: 'boolean', description: 'never install; fail naming the install command instead' },
  },
  async run(invocation, io) {
    const progress = new LabProgress(io.stderr, { quiet: invocation.json });
    const result = await setupLab({ install: !invocation.flag('no-install'), progress });
    if (invocation.json) {
      printJson(io, {
        kernel: result.host.kernel.version,
        kernelImage: result.host.kernel.image,
        qemu: result.host.qemu,
        busybox: result.host.busybox,
        installed: result.installed,
        initramfs: { path: result.initramfs.path, key: result.initramfs.key, built: result.initramfs.built },
      });
      return 0;
    }
    if (result.installed.length > 0) printLine(io, `lab: installed ${result.installed.join(', ')}`);
    printLine(
      io,
      `lab ready: kernel ${result.host.kernel.version}, ${result.initramfs.built ? 'built' : 'cached'} initramfs ${result.initramfs.path}`,
    );
    return 0;
  },
};
