// @ts-check
/**
 * TypeDoc plugin for the field tables (the python-scsi model: a CDB or a response is a table
 * of fields, decoded by one codec).
 *
 * 1. Each exported field table of @sgv4/core (the CDB tables such as `READ10_CDB`, the
 *    response tables such as `STANDARD_INQUIRY`) gets its layout as a table in its comment:
 *    field, byte, bit, width and meaning, read from the table itself, so the page cannot drift
 *    from the code. Its declared type (a long literal type) is shown as the type it satisfies.
 * 2. The properties of a typed decode result (`interface X extends DecodedFields<typeof TABLE>`)
 *    come from the field table, which is their documentation. TypeDoc sees them as properties
 *    without comments; this gives each one a comment that names its table, and drops the mapped
 *    base type from the interface's hierarchy.
 *
 * The tables are read from the built package (packages/core/dist), which `pnpm build` makes
 * before the site is built.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Comment, Converter, makeRecursiveVisitor, ReferenceType, ReflectionKind } from 'typedoc';

const coreEntry = fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url));

/**
 * @typedef {{ name: string, kind?: string, byte: number, bit?: number, width?: number, length?: number, description?: string }} Field
 * @typedef {{ name: string, length: number, fields: readonly Field[], key?: string, opcode?: number, serviceAction?: number, direction?: string }} Table
 */

/** @param {unknown} v @returns {v is Table} */
function isFieldTable(v) {
  if (typeof v !== 'object' || v === null) return false;
  const t = /** @type {Record<string, unknown>} */ (v);
  return typeof t.name === 'string' && typeof t.length === 'number' && Array.isArray(t.fields);
}

/** @param {string} text */
const cell = (text) => text.replace(/\|/g, '\\|');
/** @param {number} n */
const hex = (n) => `0x${n.toString(16).padStart(2, '0')}`;

/** The markdown that documents one table. @param {Table} t */
function layout(t) {
  const lines = [];
  if (t.opcode !== undefined) {
    const sa = t.serviceAction !== undefined ? `, SERVICE ACTION ${hex(t.serviceAction)}` : '';
    lines.push(
      `**${t.name}**: OPERATION CODE ${hex(t.opcode)}${sa}, ${t.length}-byte CDB, data ${t.direction ?? 'none'}` +
        (t.key !== undefined ? ` (key \`${t.key}\`).` : '.'),
    );
  } else {
    lines.push(`**${t.name}**: ${t.length} bytes.`);
  }
  lines.push('', '| Field | Byte | Bit | Width | Meaning |', '| --- | --- | --- | --- | --- |');
  for (const f of t.fields) {
    const blob = f.kind === 'ascii' || f.kind === 'bytes';
    const byte = blob ? `${f.byte}..${f.byte + (f.length ?? 1) - 1}` : String(f.byte);
    const width = blob ? `${f.length} bytes (${f.kind})` : `${f.width}`;
    lines.push(
      `| \`${f.name}\` | ${byte} | ${blob ? '' : (f.bit ?? 0)} | ${width} | ${cell(f.description ?? '')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Removes from the project the reflections a type literal created (nested ones included), so
 * replacing the type leaves nothing the serializer would reference.
 * @param {import('typedoc').ProjectReflection} project
 * @param {import('typedoc').SomeType | undefined} type
 */
function dropTypeReflections(project, type) {
  type?.visit(
    makeRecursiveVisitor({
      reflection(t) {
        for (const child of t.declaration.children ?? []) dropTypeReflections(project, child.type);
        project.removeReflection(t.declaration);
      },
    }),
  );
}

/** @param {import('typedoc').Application} app */
export async function load(app) {
  if (!existsSync(coreEntry)) {
    throw new Error(
      `typedoc-field-tables: ${coreEntry} is missing; run \`pnpm build\` before \`pnpm run docs\``,
    );
  }
  /** @type {Record<string, unknown>} */
  const core = await import(pathToFileURL(coreEntry).href);
  /** @type {Map<string, Table>} */
  const tables = new Map();
  for (const [name, value] of Object.entries(core)) if (isFieldTable(value)) tables.set(name, value);

  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const project = context.project;
    for (const reflection of project.getReflectionsByKind(ReflectionKind.Variable)) {
      const decl = /** @type {import('typedoc').DeclarationReflection} */ (reflection);
      const module = decl.parent;
      if (module === undefined || !module.name.startsWith('@sgv4/core')) continue;
      const table = tables.get(decl.name);
      if (table === undefined) continue;
      decl.comment ??= new Comment();
      decl.comment.summary.push({ kind: 'text', text: `\n\n${layout(table)}` });
      // The literal type spells the whole table again; the layout above is the readable form.
      const shown = table.opcode !== undefined ? 'CdbSpec' : 'FieldTable';
      const target = project.getChildByName(['@sgv4/core', shown]) ?? project.getChildByName(shown);
      if (target !== undefined) {
        dropTypeReflections(project, decl.type);
        decl.type = ReferenceType.createResolvedReference(shown, target, project);
      }
      decl.defaultValue = undefined;
    }

    for (const owner of project.getReflectionsByKind(ReflectionKind.Interface)) {
      const decl = /** @type {import('typedoc').DeclarationReflection} */ (owner);
      const base = decl.extendedTypes?.find((t) => t.type === 'reference' && t.name === 'DecodedFields');
      if (base === undefined || base.type !== 'reference') continue;
      const argument = base.typeArguments?.[0];
      const table = argument?.type === 'query' ? argument.queryType.name : 'its field table';
      for (const child of decl.children ?? []) {
        if (child.kind !== ReflectionKind.Property || child.hasComment()) continue;
        child.comment = new Comment([
          { kind: 'text', text: `The \`${child.name}\` field of ` },
          { kind: 'code', text: `\`${table}\`` },
          { kind: 'text', text: ' (its byte, bit and width are in the table).' },
        ]);
      }
      // DecodedFields<...> is a mapped type, not a declaration: a hierarchy entry for it would
      // link to an anchor the hierarchy page does not have.
      decl.extendedTypes = undefined;
    }
  });
}
