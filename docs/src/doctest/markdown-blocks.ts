/**
 * Fenced code blocks of a Markdown file, with their info string split into a language and
 * attributes (```` ```ts doctest=lab ```` -> language `ts`, attributes `{ doctest: 'lab' }`).
 * markdown-it (TypeDoc's renderer) takes the first word of the info string as the language,
 * so attributes after it never change how the site highlights the block.
 * @module
 */

/** One fenced block. */
export interface FencedBlock {
  /** The file it came from (as given). */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** First word of the info string, lower case (`ts`, `sh`, `console`; empty when none). */
  readonly language: string;
  /** `key=value` words after the language (`key` alone means `key=''`). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The block's text, without the fences, ending in a newline. */
  readonly code: string;
}

const OPENING = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)\s*([^`]*)$/;

/** Every fenced block in `markdown`, in order. An unclosed block runs to the end of the file. */
export function fencedBlocks(markdown: string, file: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPENING.exec(lines[i] ?? '');
    if (open === null) continue;
    const fence = open[2] ?? '```';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close !== null && close[1]?.[0] === fence[0] && (close[1]?.length ?? 0) >= fence.length) break;
      body.push(line);
    }
    const attributes: Record<string, string> = {};
    for (const word of (open[4] ?? '').trim().split(/\s+/)) {
      if (word === '') continue;
      const eq = word.indexOf('=');
      if (eq < 0) attributes[word] = '';
      else attributes[word.slice(0, eq)] = word.slice(eq + 1);
    }
    blocks.push({
      file,
      line: i + 1,
      language: (open[3] ?? '').toLowerCase(),
      attributes,
      code: body.length === 0 ? '' : `${body.join('\n')}\n`,
    });
    i = j;
  }
  return blocks;
}
