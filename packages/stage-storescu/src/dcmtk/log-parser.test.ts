// storescu's debug log, as DCMTK 3.6.7 writes it, becomes the same outcomes the in-process transport reports.
import { describe, expect, it } from 'vitest'
import { silentLogger } from '@pacsflow/core'
import type { SendItem } from '../input.js'
import type { ItemResult } from '../transport.js'
import { StorescuLogParser } from './log-parser.js'

function item(n: number): SendItem {
  return { path: `/data/f${n}.dcm`, sizeBytes: 1, sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: `1.2.${n}`, transferSyntaxUid: '1.2.840.10008.1.2.1', studyInstanceUid: '1', seriesInstanceUid: '2' }
}

function parse(log: string, items: readonly SendItem[]) {
  const intents: string[] = []
  const results = new Map<string, ItemResult>()
  const parser = new StorescuLogParser(new Map(items.map((entry) => [entry.path, entry])), {
    intent: (entry) => intents.push(entry.sopInstanceUid),
    result: (entry, result) => results.set(entry.sopInstanceUid, result),
  }, silentLogger)
  for (const line of log.split('\n')) parser.line(line)
  parser.end()
  return { intents, results, error: parser.error }
}

const response = (status: string, comment?: string): string => `D: ===================== INCOMING DIMSE MESSAGE ====================
D: Message Type                  : C-STORE RSP
D: Presentation Context ID       : 1
D: DIMSE Status                  : ${status}
${comment === undefined ? '' : `D: Error Comment                 : ${comment}\n`}D: ======================= END DIMSE MESSAGE =======================`

describe('StorescuLogParser', () => {
  it('reads success, warning, failure and a refused SOP class per file', () => {
    const log = [
      'I: Association Accepted (Max Send PDV: 16372)',
      'I: Sending file: /data/f1.dcm',
      'I: Sending Store Request (MsgID 1, MR)',
      response('0x0000: Success'),
      'I: Sending file: /data/f2.dcm',
      'I: Sending Store Request (MsgID 2, MR)',
      response('0xb000: Warning: Coercion of data elements'),
      'I: Sending file: /data/f3.dcm',
      'I: Sending Store Request (MsgID 3, MR)',
      response('0xc000: Error: Cannot understand', 'no SOP instance'),
      'I: Sending file: /data/f4.dcm',
      'E: No presentation context for: (MRe) 1.2.840.10008.5.1.4.1.1.4.1',
      'I: Releasing Association',
    ].join('\n')
    const { intents, results, error } = parse(log, [item(1), item(2), item(3), item(4)])
    expect(error).toBeUndefined()
    expect(intents).toEqual(['1.2.1', '1.2.2', '1.2.3'])
    expect(results.get('1.2.1')).toEqual({ kind: 'stored', status: 0 })
    expect(results.get('1.2.2')).toMatchObject({ kind: 'stored', status: 0xb000 })
    expect(results.get('1.2.3')).toMatchObject({ kind: 'failed', status: 0xc000, error: { code: 'STORE_FAILED', message: expect.stringContaining('no SOP instance') } })
    expect(results.get('1.2.4')).toMatchObject({ kind: 'failed', error: { code: 'STORE_SOP_CLASS_REFUSED' } })
  })

  it('turns a refused connection and a rejection into association-level errors, leaving files without outcome', () => {
    const refused = parse('F: Association Request Failed: 0006:031b Failed to establish association\nF: 0006:031c TCP Initialization Error: Connection refused', [item(1)])
    expect(refused.error).toMatchObject({ code: 'STORE_CONNECTION_FAILED', retryable: true, message: expect.stringContaining('Connection refused') })
    expect(refused.results.size).toBe(0)
    const rejected = parse('F: Association Rejected:\nF: Result: Rejected Transient, Source: Service Provider (Presentation related function)\nF: Reason: Local limit exceeded', [item(1)])
    expect(rejected.error).toMatchObject({ code: 'STORE_ASSOCIATION_REJECTED', details: { transient: true } })
  })

  it('leaves a file whose store failed mid-association without outcome, to be retried', () => {
    const log = ['I: Sending file: /data/f1.dcm', 'I: Sending Store Request (MsgID 1, MR)', 'E: Store Failed, file: /data/f1.dcm:', 'E: 0006:0207 DIMSE Read PDV failed'].join('\n')
    const { intents, results, error } = parse(log, [item(1)])
    expect(intents).toEqual(['1.2.1'])
    expect(results.size).toBe(0)
    expect(error).toMatchObject({ code: 'STORE_CONNECTION_FAILED', message: expect.stringContaining('Read PDV failed') })
  })
})
