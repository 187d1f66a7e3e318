// SIGKILL mid-send, restart, repeat: every instance reaches the receiver, and none the outbox
// recorded as acknowledged is sent again (counted on a DCMTK storescp that keeps every request).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '@pacsflow/core'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { parsePart10Meta } from './part10.js'
import { copySeries, removeDir, startStorescp, tempDir, type Storescp } from './test-support/fixtures.js'
import type { StoreReceipt } from './types.js'

const dataDir = testDataDir()
const ready = haveTools('storescp') && dataDir !== undefined
const childScript = fileURLToPath(new URL('./test-support/send-child.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))

interface JournalState {
  readonly acked: Set<string>
  /** Sent, outcome not recorded: the requests in flight when the process died. */
  readonly uncertain: Set<string>
}

function readJournal(storeDir: string): JournalState {
  const acked = new Set<string>()
  const intents = new Set<string>()
  const workDir = join(storeDir, 'send-1', 'work', '00-storescu')
  const name = existsSync(workDir) ? readdirSync(workDir).find((file) => file.startsWith('outbox-')) : undefined
  if (name !== undefined) {
    for (const line of readFileSync(join(workDir, name), 'utf8').split('\n')) {
      if (!line.endsWith('}')) continue
      const entry = JSON.parse(line) as { e: string; sop: string }
      if (entry.e === 'intent') intents.add(entry.sop)
      if (entry.e === 'ack') acked.add(entry.sop)
    }
  }
  return { acked, uncertain: new Set([...intents].filter((sop) => !acked.has(sop))) }
}

/** Runs the child; kills it with SIGKILL once the outbox holds `killAfterAcks` acknowledgements (or lets it finish). */
function runChild(storeDir: string, scp: Storescp, filesDir: string, killAfterAcks?: number): Promise<{ receipt?: StoreReceipt; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript, storeDir, String(scp.port), scp.aet, filesDir], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const limit = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const watch = setInterval(() => {
      if (killAfterAcks !== undefined && !killed && readJournal(storeDir).acked.size >= killAfterAcks) {
        killed = true
        child.kill('SIGKILL')
      }
    }, 2)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(limit)
      clearInterval(watch)
      const line = stdout.split('\n').find((text) => text.startsWith('RECEIPT '))
      if (killed) resolve({ killed })
      else if (code === 0 && line !== undefined) resolve({ killed, receipt: JSON.parse(line.slice(8)) as StoreReceipt })
      else reject(new Error(`child exited ${code} before the kill: ${stderr}`))
    })
  })
}

describe.skipIf(!ready)('storescu killed with SIGKILL mid-send', () => {
  let scratch: string
  let files: string[]

  beforeAll(() => {
    scratch = tempDir('storescu-crash')
    files = copySeries(dataDir!, 'dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping', join(scratch, 'in'))
  })
  afterAll(() => removeDir(scratch))

  it('three kills, three restarts: everything delivered, nothing acknowledged sent twice', async () => {
    const received = join(scratch, 'received')
    mkdirSync(received)
    // +uf: a new file for every C-STORE request, so a second send of an instance shows as a second file.
    const scp = await startStorescp(received, ['+uf'])
    const storeDir = join(scratch, 'jobs')
    const kills: JournalState[] = []
    try {
      for (const threshold of [30, 90, 150]) {
        const { killed } = await runChild(storeDir, scp, join(scratch, 'in'), threshold)
        expect(killed).toBe(true)
        const state = readJournal(storeDir)
        // Killed mid-send, not after it.
        expect(state.acked.size).toBeLessThan(212)
        kills.push(state)
      }
      const { receipt } = await runChild(storeDir, scp, join(scratch, 'in'))
      expect(receipt).toMatchObject({ total: 212, failed: 0 })
      expect(receipt!.stored + receipt!.alreadyStored).toBe(212)
      expect(receipt!.alreadyStored).toBeGreaterThanOrEqual(kills[2]!.acked.size)
      await sleep(200)
    } finally {
      await scp.stop()
    }
    const copies = new Map<string, number>()
    for (const name of readdirSync(received)) {
      const sop = parsePart10Meta(readFileSync(join(received, name)), name).sopInstanceUid!
      copies.set(sop, (copies.get(sop) ?? 0) + 1)
    }
    const expected = files.map((path) => parsePart10Meta(readFileSync(path), path).sopInstanceUid!)
    expect(new Set(copies.keys())).toEqual(new Set(expected))
    const twice = [...copies].filter(([, count]) => count > 1).map(([sop]) => sop)
    // Only a request in flight at a kill may arrive twice (the PACS stored it, the response was lost
    // with the process; storescp has no C-FIND to ask). Nothing the outbox acknowledged came again.
    const inFlight = new Set(kills.flatMap((state) => [...state.uncertain]))
    expect(twice.filter((sop) => !inFlight.has(sop))).toEqual([])
    expect(twice.length).toBeLessThanOrEqual(kills.length)
    // Per instance: one copy, plus at most one for each kill that caught it in flight.
    for (const sop of expected) {
      const caughtInFlight = kills.filter((state) => state.uncertain.has(sop)).length
      expect(copies.get(sop), sop).toBeLessThanOrEqual(1 + caughtInFlight)
    }
  }, 120_000)
})
