/**
 * Writes openapi/openapi.json from the route schemas (`npm run openapi`), or with `--check` exits 1
 * when the committed file differs. The app is built as the service builds it (default config, every
 * capability module), on a throwaway SQLite store and a software provider: the document depends
 * on neither.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';
import { capabilityRoutes } from '../src/capabilities.js';
import { SoftwareProvider } from '../src/providers/software.js';
import { renderOpenApi } from '../src/http/openapi.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_FILE = path.join(ROOT, 'openapi', 'openapi.json');

export async function generateOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-openapi-'));
  try {
    const kms = await buildApp(buildConfig({}, { KMS_DATA_DIR: dataDir }), {
      providers: [
        new SoftwareProvider({ name: 'software', keyFile: path.join(dataDir, 'root.key') }),
      ],
      logger: pino({ level: 'silent' }),
      extend: capabilityRoutes,
    });
    try {
      await kms.app.ready();
      return renderOpenApi(kms.app);
    } finally {
      await kms.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const doc = await generateOpenApi();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    if (committed !== doc) {
      console.error(`${OPENAPI_FILE} differs from the routes: run npm run openapi`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(path.dirname(OPENAPI_FILE), { recursive: true });
  writeFileSync(OPENAPI_FILE, doc);
  console.log(`wrote ${path.relative(ROOT, OPENAPI_FILE)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
