import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sameFileContent } from './file-compare.js'

const dir = mkdtempSync(join(tmpdir(), 'pacsflow-compare-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, bytes: Uint8Array): string => {
  writeFileSync(join(dir, name), bytes)
  return join(dir, name)
}

describe('sameFileContent', () => {
  const big = Uint8Array.from({ length: 2.5 * 1024 * 1024 }, (_, i) => (i * 7) & 255)

  it('is true for equal bytes across chunks, hard links and empty files', async () => {
    expect(await sameFileContent(file('a', big), file('b', big.slice()))).toBe(true)
    linkSync(join(dir, 'a'), join(dir, 'a-link'))
    expect(await sameFileContent(join(dir, 'a'), join(dir, 'a-link'))).toBe(true)
    expect(await sameFileContent(file('e1', new Uint8Array(0)), file('e2', new Uint8Array(0)))).toBe(true)
  })

  it('is false for another size or one byte changed in a later chunk', async () => {
    const changed = big.slice()
    changed[2 * 1024 * 1024 + 5]! ^= 1
    expect(await sameFileContent(file('c', big), file('d', changed))).toBe(false)
    expect(await sameFileContent(file('f', big), file('g', big.subarray(1)))).toBe(false)
  })
})
