/**
 * `src/binding.ts` is hand-written: this test keeps it honest. It reads the interfaces
 * with the TypeScript compiler and compares their member names with what the compiled
 * addon really exports (module keys, class prototypes).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '@sgv4/native';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const bindingPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'binding.ts');

/** Member names of each interface declared in binding.ts. */
function declaredMembers(): Map<string, string[]> {
  const source = ts.createSourceFile(
    bindingPath,
    readFileSync(bindingPath, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const members = new Map<string, string[]>();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    const names = statement.members
      .map((member) =>
        member.name !== undefined && ts.isIdentifier(member.name) ? member.name.text : undefined,
      )
      .filter((name): name is string => name !== undefined);
    members.set(statement.name.text, names.sort());
  }
  return members;
}

/** Own property names of a class prototype, without the constructor. */
function prototypeNames(cls: { prototype: object }): string[] {
  return Object.getOwnPropertyNames(cls.prototype)
    .filter((name) => name !== 'constructor')
    .sort();
}

describe('binding.ts matches the compiled addon', () => {
  const declared = declaredMembers();
  const addon = loadAddon();

  it('the module exports', () => {
    expect(Object.keys(addon).sort()).toEqual(declared.get('NativeAddon'));
  });

  it('NativeHandle methods and accessors', () => {
    expect(prototypeNames(addon.NativeHandle)).toEqual(declared.get('NativeHandle'));
  });

  it('NativeCommand methods and accessors', () => {
    expect(prototypeNames(addon.NativeCommand)).toEqual(declared.get('NativeCommand'));
  });
});
