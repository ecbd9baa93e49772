// Writes a machine-readable result for bench/run.mjs (the per-round samples included).
import { writeFile } from 'node:fs/promises'

export async function writeJson(path, value) {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n')
}
