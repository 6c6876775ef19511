/**
 * Transports by URL scheme: `open('iscsi://...')` finds the factory a package registered, so
 * @sgv4/bsg never depends on the packages that provide transports (they depend on it).
 * @module
 */
import { InvalidFieldError, NotSupportedError } from '@sgv4/core';
import type { TransportFactory } from './transport.js';

const factories = new Map<string, TransportFactory>();

/** Packages known to register a scheme, for the error message when it is missing (none yet beyond the built-ins). */
const KNOWN_PROVIDERS: Readonly<Record<string, string>> = {};

/**
 * The scheme of a location (`iscsi://h/t/1` -> `iscsi`, `emu:disk?size=64M` -> `emu`), or
 * undefined for a path. RFC 3986 scheme syntax; a single letter followed by a colon is not
 * taken as a scheme, so a path never is.
 */
export function locationScheme(location: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]+):/i.exec(location);
  return m?.[1]?.toLowerCase();
}

/**
 * Registers a transport factory for its scheme. Registering a second factory for a scheme is
 * an InvalidFieldError unless it is the same object (packages may be imported twice).
 */
export function registerTransport(factory: TransportFactory): void {
  const scheme = factory.scheme.toLowerCase();
  if (!/^[a-z][a-z0-9+.-]+$/.test(scheme)) {
    throw new InvalidFieldError(
      'scheme',
      'must be an RFC 3986 scheme of at least 2 characters',
      factory.scheme,
    );
  }
  const existing = factories.get(scheme);
  if (existing !== undefined && existing !== factory) {
    throw new InvalidFieldError('scheme', `is already registered (${existing.description})`, scheme);
  }
  factories.set(scheme, factory);
}

/** Removes a scheme's factory; false when none was registered. */
export function unregisterTransport(scheme: string): boolean {
  return factories.delete(scheme.toLowerCase());
}

/** The registered factories, by scheme. */
export function registeredTransports(): readonly TransportFactory[] {
  return [...factories.values()];
}

/** The factory for `scheme`; NotSupportedError naming the package that provides it when none is registered. */
export function transportFactory(scheme: string): TransportFactory {
  const factory = factories.get(scheme);
  if (factory !== undefined) return factory;
  const provider = KNOWN_PROVIDERS[scheme];
  throw new NotSupportedError(
    `transport ${scheme}:`,
    provider
      ? `no transport is registered for ${scheme}: (import '${provider}', which registers it)`
      : `no transport is registered for ${scheme}: (registered: ${[...factories.keys()].map((s) => `${s}:`).join(', ') || 'none'}; kernel nodes are opened by path)`,
  );
}
