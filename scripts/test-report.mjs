// Reads vitest JSON reports (one per project) and prints the plain closing line
// "N passed, N failed, N skipped". Fails when a test failed or was skipped, when a file failed to
// load, or when a project ran no test: a suite that should have run but did not is a failure.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
let bad = false;
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const r of report.testResults) {
    if (r.status === 'failed' && r.assertionResults.length === 0) {
      console.error(`test file failed to run: ${r.name}\n${r.message}`);
      bad = true;
    }
    for (const a of r.assertionResults) {
      if (!['passed', 'failed'].includes(a.status))
        console.error(`skipped: ${a.fullName} (${r.name})`);
    }
  }
  if (report.numTotalTests === 0) {
    console.error(`${file}: no test ran`);
    bad = true;
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (skipped > 0) console.error('some tests were skipped: every suite must run here');
process.exit(failed > 0 || skipped > 0 || bad ? 1 : 0);
