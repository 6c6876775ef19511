/**
 * Splitting one shell command line into words the way sh does for the simple cases guides
 * use: single and double quotes, backslash escapes, `#` comments, the command separators
 * `&&`, `||`, `;` and `|` (each separated command is returned on its own), and redirections
 * (`> file`, `2>&1`, `&> log`, `< in`), which are not words of the command. A synopsis
 * placeholder such as `<device>` stays a word.
 * @module
 */

/** The commands of one line, each as its words (quotes removed). */
export function shellCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  /** Skips a redirection starting at `i` (its operator and target); returns the last index used. */
  const skipRedirection = (start: number): number => {
    let i = start;
    while (i < line.length && /[<>&]/.test(line[i] as string)) i++;
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    while (i < line.length && !/[\s;|&<>]/.test(line[i] as string)) i++;
    return i - 1;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    // `<device>` in a synopsis is a placeholder word, not an input redirection.
    const placeholder = c === '<' ? /^<[^\s<>]+>/.exec(line.slice(i))?.[0] : undefined;
    if (placeholder !== undefined) {
      word += placeholder;
      inWord = true;
      i += placeholder.length - 1;
    } else if (c === '>' || c === '<' || (c === '&' && line[i + 1] === '>')) {
      // `2>&1`: the digits before the operator name a file descriptor, not a word.
      if (inWord && /^\d+$/.test(word)) {
        word = '';
        inWord = false;
      } else endWord();
      i = skipRedirection(i);
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word += end < 0 ? line.slice(i + 1) : line.slice(i + 1, end);
      inWord = true;
      i = end < 0 ? line.length : end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        word += line[j];
      }
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === ';' || c === '|' || c === '&') {
      endCommand();
      if ((c === '|' || c === '&') && line[i + 1] === c) i++;
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}
