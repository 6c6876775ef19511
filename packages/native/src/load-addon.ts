/**
 * Finding and loading the compiled addon, once per Node environment (main thread or
 * worker thread: the addon keeps per-environment state).
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortedError, InvalidFieldError, NotSupportedError, OsError } from '@sgv4/core';
import type { NativeAddon } from './binding.js';

/** Environment variable that overrides the addon path (e.g. the ASan build). */
export const NATIVE_PATH_ENV = 'SGV4_NATIVE_PATH';

/** The command that builds the addon. */
export const NATIVE_BUILD_COMMAND = 'pnpm --filter @sgv4/native build';

/** The addon could not be loaded on Linux: the binary is missing or broken. */
export class NativeAddonMissingError extends NotSupportedError {
  /** The path that was tried. */
  readonly addonPath: string;

  /** `detail` says what went wrong. */
  constructor(addonPath: string, detail: string, cause?: unknown) {
    super('the @sgv4/native addon', `${detail} (${addonPath}); build it with \`${NATIVE_BUILD_COMMAND}\``, {
      cause,
    });
    this.addonPath = addonPath;
  }
}

/** Where the addon binary is: $SGV4_NATIVE_PATH, else `<package>/build/Release/sgv4_native.node`. */
export function addonPath(): string {
  const override = process.env[NATIVE_PATH_ENV];
  if (override !== undefined && override !== '') return resolve(override);
  // src/ (tests through the vitest alias) and dist/ (built) both sit one level below the package root.
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
  return join(packageRoot, 'build', 'Release', 'sgv4_native.node');
}

function isNativeAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.NativeHandle === 'function' &&
    typeof v.NativeCommand === 'function' &&
    typeof v.configure === 'function' &&
    typeof v.allocateBuffer === 'function'
  );
}

let loaded: NativeAddon | undefined;

/**
 * Loads the addon (cached) and installs the @sgv4/core error factories in it.
 * Throws NotSupportedError ("unsupported platform") off Linux, and
 * {@link NativeAddonMissingError} naming the build command when the binary is missing.
 */
export function loadAddon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') {
    throw new NotSupportedError(
      'the @sgv4/native addon',
      `unsupported platform ${process.platform}: it drives the Linux sg and bsg drivers`,
    );
  }
  const path = addonPath();
  if (!existsSync(path)) throw new NativeAddonMissingError(path, 'the addon binary is missing');
  let exported: unknown;
  try {
    exported = createRequire(import.meta.url)(path);
  } catch (error) {
    throw new NativeAddonMissingError(path, 'the addon binary failed to load', error);
  }
  if (!isNativeAddon(exported)) throw new NativeAddonMissingError(path, 'the file is not the sgv4 addon');
  exported.configure(
    (errno, syscall, path) => OsError.fromErrno(errno, syscall, path),
    (field, rule, value) => new InvalidFieldError(field, rule, value),
    (what, reason) => new AbortedError(what, reason),
  );
  loaded = exported;
  return exported;
}
