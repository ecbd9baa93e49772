import { describe, expect, it } from 'vitest'

import { terminalSafe } from '../../src/cli/terminal-text.js'

describe('terminalSafe', () => {
  it('leaves ordinary text alone', () => {
    expect(terminalSafe('085 · node 3.2.1 · /smile/callback · 2026-11-30T10:00:00.000Z')).toBe(
      '085 · node 3.2.1 · /smile/callback · 2026-11-30T10:00:00.000Z',
    )
  })

  it.each([
    ['ESC sequences', '085\u001b[2K\u001b[1A✔ Ready', '085\\x1b[2K\\x1b[1A✔ Ready'],
    ['carriage return and newline', 'a\rb\nc\td', 'a\\x0db\\x0ac\\x09d'],
    ['DEL and C1 (8-bit CSI)', 'x\u007fy\u009bz', 'x\\x7fy\\x9bz'],
    ['bidi override and isolates', 'abc\u202edcb\u2066', 'abc\\u202edcb\\u2066'],
    ['zero-width and BOM', 'a\u200bb\ufeff', 'a\\u200bb\\ufeff'],
  ])('makes %s visible and inert', (_what, input, expected) => {
    const safe = terminalSafe(input)
    expect(safe).toBe(expected)
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
  })
})
