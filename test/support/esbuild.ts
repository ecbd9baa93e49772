/**
 * Bundling src with esbuild, for tests that must run code in a child process or as a Worker would load
 * it. The one place that knows how the package's `"imports"` map (`#crypto`, `#crypto-hash`,
 * `#audit-file`, `#instance`) applies to src: each specifier is resolved through package.json with the
 * bundle's conditions, exactly as a runtime or a user's bundler would resolve it, and the `./dist/…js`
 * file it names is swapped for its `src/…ts` source. So a harness that says it tests src tests src, all of
 * it, and the import map's condition order is checked along the way.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { build, type BuildOptions, type BuildResult, type Plugin } from 'esbuild'

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** A file under `src/`, as an absolute path. */
export const srcFile = (path: string): string => fileURLToPath(new URL(`../../src/${path}`, import.meta.url))

/** The conditions a Worker's bundler uses (wrangler, and esbuild `--conditions=workerd,worker,browser`). */
export const WORKER_CONDITIONS: readonly string[] = ['workerd', 'worker', 'browser']

type ImportTarget = string | { [condition: string]: ImportTarget }

const imports = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    imports: Record<string, ImportTarget>
  }
).imports

/**
 * The file the package's import map names for `specifier` under `conditions` (plus `default`), as Node
 * resolves it: the first key in the map's own order that is an active condition. `types` is never active.
 *
 * @example
 * ```ts
 * resolveImport('#crypto', ['node']) // './dist/crypto/node.js'
 * resolveImport('#crypto', WORKER_CONDITIONS) // './dist/crypto/portable.js'
 * ```
 */
export function resolveImport(specifier: string, conditions: readonly string[]): string {
  let target: ImportTarget | undefined = imports[specifier]
  while (target !== undefined && typeof target === 'object') {
    const key: string | undefined = Object.keys(target).find(
      (name) => name !== 'types' && (name === 'default' || conditions.includes(name)),
    )
    target = key === undefined ? undefined : target[key]
  }
  if (target === undefined)
    throw new Error(`package.json "imports" has no ${specifier} for ${conditions.join(',')}`)
  return target
}

/**
 * An esbuild plugin that resolves every `#…` import of the package to its src file, through the import
 * map with `conditions`: `./dist/crypto/node.js` becomes `src/crypto/node.ts`.
 */
export function srcImports(conditions: readonly string[]): Plugin {
  return {
    name: 'smileid-src-imports',
    setup(b) {
      b.onResolve({ filter: /^#/ }, (args) => {
        if (!(args.path in imports)) return undefined
        const dist = resolveImport(args.path, conditions)
        const match = /^\.\/dist\/(.+)\.js$/.exec(dist)
        if (match === null) throw new Error(`${args.path} maps to ${dist}, not a ./dist/…js file`)
        return { path: srcFile(`${match[1]!}.ts`) }
      })
    },
  }
}

/** Options of {@link bundleSrc}: esbuild's, minus the ones it sets. */
export interface BundleSrcOptions extends Omit<
  BuildOptions,
  'bundle' | 'format' | 'platform' | 'conditions'
> {
  /** `node` (a child process: `node` condition, CommonJS dependencies may `require`) or `worker`. */
  runtime: 'node' | 'worker'
}

/**
 * Bundles src entries into one ESM file for Node or for a Worker, with the package's `#…` imports
 * resolved to src ({@link srcImports}) under that runtime's conditions.
 *
 * @example
 * ```ts
 * await bundleSrc({ runtime: 'node', entryPoints: [srcFile('cli/main.ts')], outfile })
 * ```
 */
export function bundleSrc<T extends BundleSrcOptions>(options: T): Promise<BuildResult<T>> {
  const { runtime, plugins = [], ...rest } = options
  const conditions = runtime === 'node' ? ['node'] : [...WORKER_CONDITIONS]
  const build_ = {
    logLevel: 'silent',
    ...rest,
    bundle: true,
    format: 'esm',
    platform: runtime === 'node' ? 'node' : 'browser',
    conditions,
    ...(runtime === 'node'
      ? {
          // Bundled CommonJS dependencies (node-forge) call require().
          banner: {
            js: "import { createRequire as smileidCreateRequire } from 'node:module'; const require = smileidCreateRequire(import.meta.url);",
          },
        }
      : {}),
    plugins: [srcImports(conditions), ...plugins],
  }
  return build(build_ as BuildOptions) as Promise<BuildResult<T>>
}
