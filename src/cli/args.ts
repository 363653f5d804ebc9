/** Minimal `--flag value` / `--flag` parsing; positional words are the command path. */
export interface Parsed {
  readonly words: string[];
  readonly flags: Record<string, string | boolean>;
}

export function parseArgs(argv: readonly string[]): Parsed {
  const words: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      words.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags[name] = inline;
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[name] = argv[++i]!;
    else flags[name] = true;
  }
  return { words, flags };
}
