// Preload (`node --import ./bench/lib/record-loads.mjs`) for bench/cold-start.mjs: records every module
// URL the process resolves (ESM resolve hook, which also sees `import()` of CommonJS packages) and, at
// exit, every CommonJS module in the require cache, one per line, to the file in BENCH_LOADS_FILE.
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'

const file = process.env.BENCH_LOADS_FILE
if (file) {
  register('./record-hooks.mjs', import.meta.url, { data: { file } })
  process.on('exit', () => {
    const cache = Object.keys(createRequire(import.meta.url).cache)
    if (cache.length > 0) appendFileSync(file, cache.map((p) => `cjs ${p}`).join('\n') + '\n')
  })
}
