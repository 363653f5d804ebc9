/**
 * zkms: the operator and sidecar CLI over the REST API. Commands live in ./commands/, one file per
 * area, each exporting `commands` (a map from "area verb" to a handler); this file only dispatches.
 */
import { parseArgs } from './args.js';
import { CliError, EXIT, clientOptions } from './client.js';
import { UsageError, type Command } from './command.js';
import { commands as replicate } from './commands/replicate.js';
import { commands as key } from './commands/key.js';
import { commands as init } from './commands/init.js';
import { commands as principals } from './commands/principals.js';
import { commands as keysAdmin } from './commands/keys-admin.js';
import { commands as audit } from './commands/audit.js';
import { commands as slashing } from './commands/slashing.js';
import { commands as providers } from './commands/providers.js';

const COMMANDS: Record<string, Command> = {
  ...init,
  ...principals,
  ...keysAdmin,
  ...key,
  ...audit,
  ...slashing,
  ...replicate,
  ...providers,
};

function usage(): string {
  return [
    'usage: zkms <command> [--url URL] [--token T | --token-file F] [--json]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(28)} ${c.summary}`),
  ].join('\n');
}

export async function run(argv: readonly string[]): Promise<number> {
  const { words, flags } = parseArgs(argv);
  const name = [words[0], words[1]].filter(Boolean).join(' ');
  // Own keys only: `zkms constructor` is no command.
  const own = (k: string) => (Object.hasOwn(COMMANDS, k) ? COMMANDS[k] : undefined);
  const cmd = own(name) ?? own(words[0] ?? '');
  if (!cmd || flags.help) {
    console.error(usage());
    return flags.help ? EXIT.ok : EXIT.usage;
  }
  try {
    const out = await cmd.run({
      client: clientOptions(flags),
      flags,
      args: words.slice(name.split(' ').length),
    });
    if (out !== undefined)
      console.log(
        flags.json
          ? JSON.stringify(out, null, 2)
          : cmd.format
            ? cmd.format(out)
            : JSON.stringify(out, null, 2),
      );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`zkms: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof CliError) {
      console.error(`zkms: ${e.message}`);
      return e.exitCode;
    }
    console.error(`zkms: ${(e as Error).message}`);
    return EXIT.unavailable;
  }
}

run(process.argv.slice(2)).then((code) => process.exit(code));
