/** Types for `trace-imports.mjs` (plain JS so `check.mjs` can run it without a build). */
export declare const FORBIDDEN_ON_SIGNATURE_PATH: readonly string[]
export declare function packageOf(url: string): string | null
export interface TraceResult {
  exitCode: number | null
  stdout: string
  stderr: string
  urls: string[]
  packages: string[]
}
export declare function traceImports(options: {
  dir: string
  code: string
  nodeBinary?: string
  timeoutMs?: number
}): Promise<TraceResult>
export interface PathVectors {
  signatureVector: { partnerId: string; apiKey: string; timestamp: string; signature: string }
  secKeyVector: { timestamp: number | string; server_sec_key: string }
  partnerSample: { timestamp: number | string; sec_key: string }
  publicApiKey: string
  privateKeyPem: string
}
export declare function pathScripts(vectors: PathVectors): {
  signature: string
  secKeyPublic: string
  secKeyPrivate: string
}
export declare function loadPathVectors(repoRoot: string): PathVectors
