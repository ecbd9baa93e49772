#!/usr/bin/env node
/**
 * Packaging checks on the packed tarball, as a user would receive it:
 *   1. `npm pack` into a scratch directory;
 *   2. `publint --strict` on the tarball;
 *   3. `attw --profile esm-only` (Are the Types Wrong) on the tarball: this package is ESM-only;
 *   4. the tarball unpacked into a scratch project's node_modules (dependencies linked from this repo):
 *      the core entry's signature path verifies and loads no framework, no Redis client and no
 *      node-forge; the sec_key public-key path leaves node-forge unloaded on Node; and, as a control
 *      that the import trace works, the private-key path does load node-forge;
 *   5. every entry in "exports" imports from the installed package and has the exports it documents;
 *   6. a TypeScript consumer (strict, NodeNext, skipLibCheck off) type-checks against every entry's
 *      declarations without `@types/express` or `express` installed: the Express entry's types do not
 *      depend on them.
 *
 *   node test/package/check.mjs [--keep]
 *
 * Exit code 1 when any check fails. Expects the library built into dist/ (`npm run build`).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FORBIDDEN_ON_SIGNATURE_PATH, loadPathVectors, pathScripts, traceImports } from './trace-imports.mjs'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const keep = process.argv.includes('--keep')
const bin = (name) => join(repoRoot, 'node_modules', '.bin', name)
const results = []

function record(name, ok, detail = '') {
  results.push({ name, ok, detail })
  console.log(
    `${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `\n      ${detail.trim().split('\n').join('\n      ')}` : ''}`,
  )
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', timeout: 300_000, ...options })
  return {
    code: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim(),
    error: result.error,
  }
}

if (!existsSync(join(repoRoot, 'dist', 'index.js'))) {
  console.error('dist/index.js is missing: run `npm run build` first.')
  process.exit(1)
}

const scratch = mkdtempSync(join(tmpdir(), 'smileid-package-'))
try {
  // 1. npm pack
  const pack = run('npm', ['pack', '--json', '--pack-destination', scratch])
  let tarball
  try {
    const [info] = JSON.parse(pack.output.slice(pack.output.indexOf('[')))
    tarball = join(scratch, info.filename)
    const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
    record(
      'npm pack',
      pack.code === 0 && existsSync(tarball),
      `${info.filename}: ${info.entryCount} files, ${kib(info.size)} packed, ${kib(info.unpackedSize)} unpacked`,
    )
    const stray = info.files
      .map((f) => f.path)
      .filter((p) => /(^|\/)(test|src|bench|tmp)\/|\.test\.|\.tsbuildinfo$/.test(p))
    record(
      'tarball holds no tests, sources, benchmarks or build info',
      stray.length === 0,
      stray.slice(0, 10).join('\n'),
    )
  } catch (error) {
    record('npm pack', false, `${error.message}\n${pack.output.slice(-2000)}`)
  }

  if (tarball !== undefined) {
    // 2. publint --strict
    const publint = run(bin('publint'), ['run', tarball, '--strict'])
    record('publint --strict', publint.code === 0, publint.output)

    // 3. attw, ESM-only profile
    const attw = run(bin('attw'), [
      tarball,
      '--profile',
      'esm-only',
      '--format',
      'table-flipped',
      '--no-emoji',
      '--no-color',
    ])
    record('attw --profile esm-only', attw.code === 0, attw.output)

    // 4. What the core entry loads, from the unpacked tarball
    const consumer = join(scratch, 'consumer')
    const installed = join(consumer, 'node_modules', 'smileid-auth-shim')
    mkdirSync(installed, { recursive: true })
    const untar = run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'])
    writeFileSync(join(consumer, 'package.json'), '{ "private": true, "type": "module" }\n')
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    const missing = []
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const source = join(repoRoot, 'node_modules', dep)
      if (!existsSync(source)) missing.push(dep)
      else symlinkSync(source, join(consumer, 'node_modules', dep), 'dir')
    }
    record(
      'tarball unpacks into a consumer project',
      untar.code === 0 && missing.length === 0,
      untar.output || (missing.length ? `dependencies not found in node_modules: ${missing.join(', ')}` : ''),
    )

    const scripts = pathScripts(loadPathVectors(repoRoot))
    const signature = await traceImports({ dir: consumer, code: scripts.signature })
    const loadedForbidden = signature.packages.filter((name) => FORBIDDEN_ON_SIGNATURE_PATH.includes(name))
    record(
      'core entry, signature path: verifies from the installed package',
      signature.stdout.trim() === 'OK' &&
        signature.urls.some((u) => u.includes('/node_modules/smileid-auth-shim/dist/index.js')),
      signature.stdout.trim() === 'OK' ? '' : `${signature.stdout}${signature.stderr}`.slice(-1500),
    )
    record(
      'core entry, signature path: no framework, no Redis client, no node-forge loaded',
      signature.exitCode === 0 && loadedForbidden.length === 0,
      `packages loaded: ${signature.packages.join(', ') || '(none)'}`,
    )
    const secKeyPublic = await traceImports({ dir: consumer, code: scripts.secKeyPublic })
    record(
      'core entry, sec_key public-key path on Node: node-forge not loaded',
      secKeyPublic.stdout.trim() === 'OK' && !secKeyPublic.packages.includes('node-forge'),
      `${secKeyPublic.stdout.trim() === 'OK' ? '' : `${secKeyPublic.stdout}${secKeyPublic.stderr}`.slice(-800)}packages loaded: ${secKeyPublic.packages.join(', ') || '(none)'}`,
    )
    const secKeyPrivate = await traceImports({ dir: consumer, code: scripts.secKeyPrivate })
    record(
      'control: the trace sees node-forge load lazily on the private-key path',
      secKeyPrivate.stdout.trim() === 'OK' && secKeyPrivate.packages.includes('node-forge'),
      `packages loaded: ${secKeyPrivate.packages.join(', ') || '(none)'}`,
    )

    // README links must work where npm users read it: inside the installed package.
    const readme = readFileSync(join(installed, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((m) => m[1])
      .filter((href) => !/^[a-z]+:/i.test(href))
    const dead = links.filter((href) => !existsSync(join(installed, href)))
    record(
      `README's ${links.length} relative links resolve inside the installed package`,
      links.length > 0 && dead.length === 0,
      dead.join('\n'),
    )

    // 5. Every entry imports, with its exports
    const entries = {
      'smileid-auth-shim': ['DualModeVerifier', 'SignatureAuth', 'LegacySecKeyAuth', 'MigratingSigner'],
      'smileid-auth-shim/express': ['smileIdAuth'],
      'smileid-auth-shim/fastify': ['smileIdAuth'],
      'smileid-auth-shim/fetch': ['withSmileIdAuth', 'verifyRequest', 'rejectionResponse'],
      'smileid-auth-shim/hono': ['smileIdAuth'],
      'smileid-auth-shim/nestjs': ['SmileIdAuthGuard', 'SmileIdAuthResult'],
      'smileid-auth-shim/node': ['verifyIncomingMessage', 'sendRejection'],
      'smileid-auth-shim/opentelemetry': ['openTelemetryAuditSink'],
      'smileid-auth-shim/redis': ['RedisReplayStore'],
      'smileid-auth-shim/schemas': [
        'enhancedKycCallbackSchema',
        'jobStatusResponseSchema',
        'callbackBodySchema',
      ],
      'smileid-auth-shim/testing': ['createTestKeys', 'SmileServerSimulator'],
    }
    const exported = Object.keys(manifest.exports).filter((key) => key !== './package.json')
    const untested = exported.filter(
      (key) =>
        !Object.hasOwn(entries, key === '.' ? 'smileid-auth-shim' : `smileid-auth-shim/${key.slice(2)}`),
    )
    // Peers the entries need at run time, linked from this repository (optional peers of the package).
    for (const peer of [
      'hono',
      '@nestjs/common',
      '@nestjs/core',
      'reflect-metadata',
      'rxjs',
      'fastify',
      'zod',
      '@opentelemetry/api',
    ]) {
      const target = join(consumer, 'node_modules', peer)
      if (!existsSync(target)) {
        mkdirSync(dirname(target), { recursive: true })
        symlinkSync(join(repoRoot, 'node_modules', peer), target, 'dir')
      }
    }
    const importScript = Object.entries(entries)
      .map(
        ([name, names], i) =>
          `import * as e${i} from '${name}'\nfor (const n of ${JSON.stringify(names)}) if (e${i}[n] === undefined) throw new Error('${name} lacks ' + n)`,
      )
      .join('\n')
    writeFileSync(
      join(consumer, 'entries.mjs'),
      `import 'reflect-metadata'\n${importScript}\nconsole.log('OK')\n`,
    )
    const imported = run(process.execPath, ['entries.mjs'], { cwd: consumer })
    record(
      'every export entry imports from the installed package, with its exports',
      imported.code === 0 && imported.output === 'OK' && untested.length === 0,
      `${imported.output === 'OK' ? '' : imported.output.slice(-1500)}${untested.length ? `entries not checked here: ${untested.join(', ')}` : ''}`,
    )

    // 6. Types for a consumer without @types/express
    for (const types of ['@types/node', 'typescript']) {
      const target = join(consumer, 'node_modules', types)
      mkdirSync(dirname(target), { recursive: true })
      if (!existsSync(target)) symlinkSync(join(repoRoot, 'node_modules', types), target, 'dir')
    }
    writeFileSync(
      join(consumer, 'consumer.ts'),
      [
        "import { createServer } from 'node:http'",
        "import { DualModeVerifier, SignatureAuth } from 'smileid-auth-shim'",
        "import { smileIdAuth } from 'smileid-auth-shim/express'",
        "import { smileIdAuth as fastifyAuth } from 'smileid-auth-shim/fastify'",
        "import { withSmileIdAuth } from 'smileid-auth-shim/fetch'",
        "import { smileIdAuth as honoAuth } from 'smileid-auth-shim/hono'",
        "import { SmileIdAuthGuard } from 'smileid-auth-shim/nestjs'",
        "import { verifyIncomingMessage } from 'smileid-auth-shim/node'",
        "import { enhancedKycCallbackSchema } from 'smileid-auth-shim/schemas'",
        "import { createTestKeys } from 'smileid-auth-shim/testing'",
        'const keys = createTestKeys()',
        'const verifier = new DualModeVerifier({',
        '  signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),',
        '})',
        'const middleware = smileIdAuth({ verifier, body: enhancedKycCallbackSchema })',
        'createServer((req, res) => middleware(Object.assign(req, { body: undefined as never }), Object.assign(res, { status: () => ({ json: () => res.end() }) }), () => res.end()))',
        'void fastifyAuth',
        'void honoAuth({ verifier })',
        'void new SmileIdAuthGuard({ verifier })',
        'void verifyIncomingMessage',
        'export const handler = withSmileIdAuth(verifier, (_r, { body }) => Response.json(body.SmileJobID), { body: enhancedKycCallbackSchema })',
        '',
      ].join('\n'),
    )
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['consumer.ts'],
      }),
    )
    const noExpressTypes =
      !existsSync(join(consumer, 'node_modules', '@types', 'express')) &&
      !existsSync(join(consumer, 'node_modules', 'express'))
    const tsc = run(
      process.execPath,
      [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      { cwd: consumer },
    )
    record(
      'a TypeScript consumer without @types/express type-checks every entry (strict, skipLibCheck off)',
      noExpressTypes && tsc.code === 0,
      tsc.output.slice(-2500),
    )
  }
} finally {
  if (keep) console.log(`\nkept ${scratch}`)
  else rmSync(scratch, { recursive: true, force: true })
}

const failed = results.filter((r) => !r.ok).length
console.log(`\npackage: ${results.length - failed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
