// Module hooks for record-loads.mjs (they run on the loader thread): append each resolved URL to a file.
import { appendFileSync } from 'node:fs'

let file

export function initialize(data) {
  file = data.file
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context)
  appendFileSync(file, `esm ${result.url}\n`)
  return result
}
