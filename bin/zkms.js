#!/usr/bin/env node
// The zkms command: a thin client of the REST API (see src/cli/main.ts). Run `npm run build` first.
import '../dist/cli/main.js';
