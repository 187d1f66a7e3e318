// The outbox journal survives reopening, a torn last record, and keeps destinations apart.
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Outbox, outboxFileName } from './outbox.js'
import { removeDir, tempDir } from './test-support/fixtures.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach(removeDir))
function dir(): string {
  const made = tempDir('outbox')
  dirs.push(made)
  return made
}

describe('Outbox', () => {
  it('remembers acknowledgements and interrupted sends across reopening', async () => {
    const where = dir()
    const first = await Outbox.open(where, 'o.jsonl')
    first.recordIntent('1.1')
    first.recordAck('1.1', 0, 'c-store')
    first.recordIntent('1.2')
    first.recordIntent('1.3')
    first.recordNotStored('1.3')
    await first.close()
    const again = await Outbox.open(where, 'o.jsonl')
    expect(again.isAcknowledged('1.1')).toBe(true)
    expect(again.isUncertain('1.2')).toBe(true)
    expect(again.isAcknowledged('1.3') || again.isUncertain('1.3')).toBe(false)
    expect(again.acknowledgedCount).toBe(1)
    again.recordRetract('1.1')
    await again.close()
    const third = await Outbox.open(where, 'o.jsonl')
    expect(third.isAcknowledged('1.1')).toBe(false)
    await third.close()
  })

  it('cuts a half-written last record (a crash mid-write) and appends after it cleanly', async () => {
    const where = dir()
    const outbox = await Outbox.open(where, 'o.jsonl')
    outbox.recordAck('1.1', 0, 'c-store')
    await outbox.close()
    appendFileSync(join(where, 'o.jsonl'), '{"e":"ack","sop":"1.2","sta')
    const reopened = await Outbox.open(where, 'o.jsonl')
    expect(reopened.isAcknowledged('1.2')).toBe(false)
    reopened.recordAck('1.3', 0xb000, 'c-store')
    await reopened.close()
    const lines = readFileSync(join(where, 'o.jsonl'), 'utf8').trim().split('\n')
    expect(lines.map((line) => (JSON.parse(line) as { sop: string }).sop)).toEqual(['1.1', '1.3'])
  })

  it('names one journal per destination', () => {
    expect(outboxFileName('PACS', 104, 'A')).toBe(outboxFileName('pacs', 104, 'A'))
    expect(outboxFileName('pacs', 104, 'A')).not.toBe(outboxFileName('pacs', 105, 'A'))
    expect(outboxFileName('pacs', 104, 'A')).not.toBe(outboxFileName('pacs', 104, 'B'))
  })
})
