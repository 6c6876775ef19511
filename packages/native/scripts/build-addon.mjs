// Builds the @sgv4/native addon with cmake-js in Node-API mode (headers from the
// node-api-headers package: no download, works offline). Incremental: cmake-js
// `build` reuses the build directory and make recompiles only what changed.
//
//   node scripts/build-addon.mjs          -> build/Release/sgv4_native.node
//   node scripts/build-addon.mjs --asan   -> build-asan/Release/sgv4_native.node (ASan + UBSan)
//
// On a platform other than Linux there is nothing to build (the addon talks to the
// Linux sg and bsg drivers): it prints "unsupported platform" and exits 0, so the
// workspace install and build still succeed.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.platform !== 'linux') {
  console.error(
    `@sgv4/native: unsupported platform ${process.platform}: the addon is Linux-only; skipping its build`,
  );
  process.exit(0);
}

const asan = process.argv.includes('--asan');
const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
// Node's own headers (uv.h), for the build-time check of libuv_abi.h: next to the binary.
const nodeInclude = join(dirname(process.execPath), '..', 'include', 'node');
const args = [
  cmakeJs,
  'build',
  '--log-level',
  'warn',
  '--out',
  asan ? 'build-asan' : 'build',
  `--CDSGV4_NODE_INCLUDE=${nodeInclude}`,
];
if (asan) args.push('--config', 'RelWithDebInfo', '--CDSGV4_SANITIZE=ON');
const result = spawnSync(process.execPath, args, {
  cwd: packageRoot,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (result.status !== 0) {
  console.error(`@sgv4/native: the addon build failed (cmake-js ${args.slice(1).join(' ')})`);
  process.exit(result.status ?? 1);
}
