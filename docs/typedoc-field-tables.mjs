// @ts-check
/**
 * TypeDoc plugin: the properties of a typed decode result (`interface X extends
 * DecodedFields<typeof TABLE>`) come from the field table, which is their documentation (each
 * table cites its SPC/SBC clause; field names are the T10 names in camelCase). TypeDoc sees them
 * as properties without comments; this gives each one a comment that names its table, and drops
 * the mapped base type from the interface's hierarchy.
 */
import { Comment, Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const owner of context.project.getReflectionsByKind(ReflectionKind.Interface)) {
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
