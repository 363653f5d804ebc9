/**
 * Production starts `node dist/main.js` (scripts/start.sh), not TypeScript through tsx, which
 * roughly triples start-up here. `startup-10k-keys` therefore runs a compiled copy of src/: every
 * file through TypeScript's own `transpileModule` (the emit of `tsc`, without the type check,
 * which takes half a minute), into .tmp/bench-dist/ inside the repository so the BLS addon and
 * node_modules resolve as they do from dist/.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './site.js';

export const COMPILED_MAIN = path.join(ROOT, '.tmp/bench-dist/main.js');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

export function compileSources(): string {
  const src = path.join(ROOT, 'src');
  const out = path.dirname(COMPILED_MAIN);
  rmSync(out, { recursive: true, force: true });
  const compilerOptions: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    // ESM as package.json `"type": "module"` makes tsc emit it (per file, NodeNext needs the
    // package scope, which transpileModule does not see).
    module: ts.ModuleKind.ES2022,
    verbatimModuleSyntax: true,
    esModuleInterop: true,
  };
  for (const file of sources(src)) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: file,
    });
    const target = path.join(out, path.relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return COMPILED_MAIN;
}
