// Runs the native tests against the AddressSanitizer + UBSan build of the addon
// (build-asan/, made here incrementally with `build-addon.mjs --asan`):
//
//   node packages/native/scripts/test-asan.mjs unit   -> vitest project `native` on the host
//   node packages/native/scripts/test-asan.mjs lab    -> the memory-safety, settle, abandoned-requests and iSCSI late-data-in lab tests in one lab guest boot
//   node packages/native/scripts/test-asan.mjs lab packages/native -> every native lab test
//
// node itself is not instrumented, so libasan is preloaded (LD_PRELOAD), leak checking is
// off (node keeps memory until exit by design) and SGV4_NATIVE_PATH points the loader at the
// sanitized binary. Any ASan/UBSan report aborts the process, which fails the run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageRoot, '..', '..');
const mode = process.argv[2];
if (mode !== 'unit' && mode !== 'lab') {
  console.error('usage: test-asan.mjs unit|lab [vitest args...]');
  process.exit(1);
}
if (process.platform !== 'linux') {
  console.error(`@sgv4/native: unsupported platform ${process.platform}: no sanitizer run`);
  process.exit(0);
}

const build = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'build-addon.mjs'), '--asan'], {
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

const addon = join(packageRoot, 'build-asan', 'RelWithDebInfo', 'sgv4_native.node');
if (!existsSync(addon)) {
  console.error(`@sgv4/native: the sanitizer build did not produce ${addon}`);
  process.exit(1);
}
const libasan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
const sanitizerEnv = {
  LD_PRELOAD: libasan,
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  SGV4_NATIVE_PATH: addon,
};
const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(3);

let result;
if (mode === 'unit') {
  result = spawnSync(process.execPath, [vitest, 'run', '--project', 'native', ...extra], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, ...sanitizerEnv },
  });
} else {
  const envArgs = Object.entries(sanitizerEnv).map(([k, v]) => `${k}=${v}`);
  // By default (as `pnpm test` runs it) the files aimed at memory: buffers moved away under the
  // kernel, the mmap-ed reserve, iovec getters, close/teardown with requests in flight, requests
  // (a synchronous call among them) left in the slots of a failed queue, and their bounce blocks,
  // which a device may still write after close(). The whole native lab suite under ASan:
  // `pnpm test:lab:asan packages/native`.
  const filters =
    extra.length > 0
      ? extra
      : [
          ...['memory-safety', 'settle', 'abandoned-requests'].map((name) => `packages/native/test/${name}`),
          // A device writing data-in after close(): the iSCSI LU of the embedded target.
          'packages/iscsi/test/target/late-data-in',
        ];
  const command = [
    'env',
    ...envArgs,
    process.execPath,
    vitest,
    'run',
    // The lab project alone, files one at a time in one worker, as `pnpm test:lab` runs it.
    '--config',
    join(repoRoot, 'packages', 'lab', 'vitest.lab.config.ts'),
    '--project',
    'lab',
    '--configLoader',
    'runner',
  ];
  result = spawnSync(
    process.execPath,
    [join(repoRoot, 'packages', 'cli', 'dist', 'main.js'), 'lab', 'run', '--', ...command, ...filters],
    { cwd: repoRoot, stdio: 'inherit' },
  );
}
process.exit(result.status ?? 1);
