/** The documentation tooling's own parsers and checks, on crafted input. */
import type { Command } from '@sgv4/cli';
import { describe, expect, it } from 'vitest';
import { checkInvocation, sgv4Arguments } from '../src/cli/cli-invocations.js';
import {
  headingAnchor,
  renderCommandTable,
  replaceBetweenMarkers,
  TABLE_BEGIN,
  TABLE_END,
} from '../src/cli/cli-reference.js';
import { absoluteImports, consoleSteps, normalizeOutput } from '../src/doctest/doc-tests.js';
import { fencedBlocks } from '../src/doctest/markdown-blocks.js';
import { shellCommands } from '../src/doctest/shell-words.js';
import { resolveSitePath } from '../src/site/static-server.js';

describe('fencedBlocks', () => {
  it('splits the info string into a language and attributes, and keeps line numbers', () => {
    const md = ['# t', '', '```ts doctest=lab  note', 'a();', '```', 'text', '~~~console', '$ x', '~~~'].join(
      '\n',
    );
    expect(fencedBlocks(md, 'g.md')).toEqual([
      { file: 'g.md', line: 3, language: 'ts', attributes: { doctest: 'lab', note: '' }, code: 'a();\n' },
      { file: 'g.md', line: 7, language: 'console', attributes: {}, code: '$ x\n' },
    ]);
  });

  it('closes a fence only with the same character, at least as long', () => {
    const md = ['````md', '```ts', 'inner', '```', '````', '```', 'plain', '```'].join('\n');
    const blocks = fencedBlocks(md, 'g.md');
    expect(blocks.map((b) => [b.line, b.language, b.code])).toEqual([
      [1, 'md', '```ts\ninner\n```\n'],
      [6, '', 'plain\n'],
    ]);
  });
});

describe('shellCommands', () => {
  it('handles quotes, escapes, comments and command separators', () => {
    expect(
      shellCommands(`sgv4 lab run --scsi-debug 'delay=0 ndelay=1' -- sh -c "echo \\"hi\\"" # c`),
    ).toEqual([['sgv4', 'lab', 'run', '--scsi-debug', 'delay=0 ndelay=1', '--', 'sh', '-c', 'echo "hi"']]);
    expect(shellCommands('a x && b y; c | d || e')).toEqual([['a', 'x'], ['b', 'y'], ['c'], ['d'], ['e']]);
    expect(shellCommands("echo 'a#b' c\\ d")).toEqual([['echo', 'a#b', 'c d']]);
  });

  it('leaves redirections out of the words', () => {
    expect(shellCommands('sgv4 lab conformance --json > conformance.json')).toEqual([
      ['sgv4', 'lab', 'conformance', '--json'],
    ]);
    expect(shellCommands('a x 2>&1 | b <in >>out; c &> log')).toEqual([['a', 'x'], ['b'], ['c']]);
    expect(shellCommands("echo 'a > b' x2>y")).toEqual([['echo', 'a > b', 'x2']]);
    expect(shellCommands('sgv4 <command> --help <hex...> > out')).toEqual([
      ['sgv4', '<command>', '--help', '<hex...>'],
    ]);
  });
});

const tree: Command = {
  name: 'sgv4',
  summary: 'root',
  subcommands: [
    {
      name: 'tool',
      summary: 'a tool',
      usage: '<device> [--in LEN]',
      options: {
        in: { type: 'string', description: 'length' },
        fast: { type: 'boolean', short: 'f', description: 'f' },
      },
      positionals: { min: 1, max: 1 },
      json: true,
      run: () => 0,
    },
    { name: 'group', summary: 'a group', subcommands: [{ name: 'leaf', summary: 'leaf', run: () => 0 }] },
  ],
};

describe('checkInvocation', () => {
  it('accepts what the dispatcher accepts', () => {
    expect(checkInvocation(tree, ['tool', '/dev/sg0', '--in', '96', '-f', '--json'])).toBeUndefined();
    expect(checkInvocation(tree, ['tool', '--help'])).toBeUndefined();
    expect(checkInvocation(tree, ['group', 'leaf'])).toBeUndefined();
    expect(checkInvocation(tree, ['--version'])).toBeUndefined();
    // Synopsis words: placeholders skip the argument count, [--json] is checked as --json.
    expect(checkInvocation(tree, ['tool', '<device>', '[--json]'])).toBeUndefined();
    expect(checkInvocation(tree, ['group', '<command>'])).toBeUndefined();
  });

  it('names what the dispatcher would refuse', () => {
    expect(checkInvocation(tree, ['tool', '/dev/sg0', '--out', 'x'])).toMatch(/'sgv4 tool'.*--out/);
    expect(checkInvocation(tree, ['tool'])).toBe(
      "'sgv4 tool' needs at least 1 argument(s) (<device> [--in LEN])",
    );
    expect(checkInvocation(tree, ['tool', 'a', 'b'])).toBe(
      "'sgv4 tool' takes at most 1 argument(s), got 'b'",
    );
    expect(checkInvocation(tree, ['group', 'twig'])).toBe(
      "'sgv4 group' has no command 'twig' (one of: leaf)",
    );
    expect(checkInvocation(tree, ['group'])).toBe("'sgv4 group' needs a command (one of: leaf)");
    expect(checkInvocation(tree, ['tool', '/dev/sg0', '--in'])).toMatch(/--in/);
  });

  it('recognizes the ways guides run the CLI', () => {
    expect(sgv4Arguments(['./scripts/sgv4', 'demo'])).toEqual(['demo']);
    expect(sgv4Arguments(['sgv4'])).toEqual([]);
    expect(sgv4Arguments(['node', 'packages/cli/dist/main.js', 'lab', 'setup'])).toEqual(['lab', 'setup']);
    expect(sgv4Arguments(['sg_inq', '/dev/sg0'])).toBeUndefined();
  });
});

describe('consoleSteps', () => {
  const block = (code: string) => ({ file: 'g.md', line: 10, language: 'console', attributes: {}, code });

  it('pairs each $ line with the output after it', () => {
    expect(consoleSteps(block('$ sgv4 a "b c"\nout 1  \n\n$ ./scripts/sgv4 d\n'), sgv4Arguments)).toEqual([
      { line: 11, args: ['a', 'b c'], expected: 'out 1' },
      { line: 14, args: ['d'], expected: '' },
    ]);
  });

  it('refuses transcripts it cannot run', () => {
    expect(() => consoleSteps(block('$ ls\n'), sgv4Arguments)).toThrow(/g\.md:11: .*one sgv4 command/);
    expect(() => consoleSteps(block('output first\n'), sgv4Arguments)).toThrow(/g\.md:11: .*starts with/);
    expect(() => consoleSteps(block('$ sgv4 a && sgv4 b\n'), sgv4Arguments)).toThrow(/one sgv4 command/);
  });

  it('compares output without trailing spaces or blank lines', () => {
    expect(normalizeOutput('a  \nb\n\n')).toBe('a\nb');
  });
});

describe('CLI reference rendering', () => {
  it('escapes table cells and links each command to its heading', () => {
    const table = renderCommandTable([
      { path: [], summary: 'root', usage: 'sgv4 <command>', help: '', group: true },
      { path: ['perm'], summary: 'a|b <c>', usage: 'sgv4 perm --mode ro|rw', help: '', group: false },
    ]);
    expect(table.split('\n')).toEqual([
      '| command | what it does | usage |',
      '|---|---|---|',
      '| [`sgv4 perm`](./commands.md#sgv4-perm) | a\\|b &lt;c&gt; | `sgv4 perm --mode ro\\|rw` |',
    ]);
    expect(headingAnchor(['lab', 'run'])).toBe('sgv4-lab-run');
  });

  it('replaces only the text between the markers', () => {
    const text = `before\n${TABLE_BEGIN}\nold\n${TABLE_END}\nafter\n`;
    expect(replaceBetweenMarkers(text, 'new')).toBe(`before\n${TABLE_BEGIN}\nnew\n${TABLE_END}\nafter\n`);
    expect(() => replaceBetweenMarkers('no markers', 'x')).toThrow(/lacks the markers/);
  });
});

describe('resolveSitePath', () => {
  it('maps URL paths into the site and refuses to leave it', () => {
    expect(resolveSitePath('/site', '/a/b%20c.html')).toBe('/site/a/b c.html');
    expect(resolveSitePath('/site', '/docs/')).toBe('/site/docs/index.html');
    expect(resolveSitePath('/site', '/../etc/passwd')).toBe('/site/etc/passwd');
    expect(resolveSitePath('/site', '/a/%2e%2e/%2e%2e/x')).toBe('/site/x');
    expect(resolveSitePath('/site', '/%E0%A4%A')).toBeUndefined();
  });
});

describe('absoluteImports', () => {
  it('resolves relative specifiers against the guide, leaving package imports alone', () => {
    const code = [
      "import type { A } from '../../bench/src/a.js';",
      "import './side-effect.js';",
      "const m = await import('../x.js');",
      "import { b } from '@sgv4/core';",
    ].join('\n');
    expect(absoluteImports(code, '/repo/docs/guides').split('\n')).toEqual([
      "import type { A } from '/repo/bench/src/a.js';",
      "import '/repo/docs/guides/side-effect.js';",
      "const m = await import('/repo/docs/x.js');",
      "import { b } from '@sgv4/core';",
    ]);
  });
});
