/**
 * docs/gateway.md: every JSON block is valid JSON, and every gateway config in it passes the config
 * validation, so a reader who copies one gets a gateway that starts (given the keys it names).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

import { parseGatewayConfig } from '../../src/gateway/config.js'

const text = readFileSync(new URL('../../docs/gateway.md', import.meta.url), 'utf8')
const blocks = [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }))

describe('docs/gateway.md code blocks', () => {
  const json = blocks.filter((block) => block.lang === 'json')
  it('has JSON examples and no ts blocks that would go unchecked', () => {
    expect(json.length).toBeGreaterThanOrEqual(4)
    expect(blocks.filter((block) => block.lang === 'ts' || block.lang === 'typescript')).toHaveLength(0)
  })
  it.each(json.map((block, i) => [i, block.code] as const))(
    'json block %i is a valid gateway config',
    (_i, code) => {
      const value = JSON.parse(code) as unknown
      expect(() => parseGatewayConfig(value)).not.toThrow()
    },
  )
})
