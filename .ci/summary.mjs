// Prints the closing line CI reads, "N passed, N failed", from vitest's JSON results (and any extra
// result files given, such as the runtime conformance results). A run that executed no test fails.
import { existsSync, readFileSync } from 'node:fs'

let passed = 0
let failed = Number(process.env.STEP_FAILURES ?? 0) || 0
let skipped = 0
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`summary: ${file} is missing (the run did not finish)`)
    failed++
    continue
  }
  const results = JSON.parse(readFileSync(file, 'utf8'))
  passed += results.numPassedTests ?? results.passed ?? 0
  failed += (results.numFailedTests ?? results.failed ?? 0) + (results.numFailedTestSuites ?? 0)
  skipped += (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0)
}
if (passed === 0 && failed === 0) {
  console.error('summary: no test was executed')
  failed = 1
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 ? 1 : 0)
