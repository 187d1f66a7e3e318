import { describe, expect, it } from 'vitest'
import { PduStream } from './pdu-stream.js'

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6)
  header[0] = type
  header.writeUInt32BE(body.length, 2)
  return Buffer.concat([header, body])
}

function pdv(context: number, control: number, value: Buffer): Buffer {
  const header = Buffer.alloc(6)
  header.writeUInt32BE(value.length + 2, 0)
  header[4] = context
  header[5] = control
  return Buffer.concat([header, value])
}

interface Seen {
  control: Buffer[]
  /** Per PDV: context, command, last fragment, its value reassembled. */
  pdvs: { context: number; command: boolean; last: boolean; value: Buffer }[]
  errors: string[]
}

function reader(): { stream: PduStream; seen: Seen } {
  const seen: Seen = { control: [], pdvs: [], errors: [] }
  let parts: Buffer[] = []
  const stream = new PduStream({
    onControlPdu: (bytes) => seen.control.push(Buffer.from(bytes)),
    onPdvData: (context, command, last, bytes, end) => {
      parts.push(Buffer.from(bytes))
      if (end) {
        seen.pdvs.push({ context, command, last, value: Buffer.concat(parts) })
        parts = []
      }
    },
    onProtocolError: (message) => seen.errors.push(message),
  })
  return { stream, seen }
}

const release = pdu(0x05, Buffer.alloc(4))
const data = Buffer.from(Array.from({ length: 300 }, (_, n) => n & 0xff))
const stream = Buffer.concat([
  pdu(0x01, Buffer.from('associate request body')),
  pdu(0x04, Buffer.concat([pdv(1, 0x03, Buffer.from('command')), pdv(1, 0x00, data.subarray(0, 100))])),
  pdu(0x04, pdv(1, 0x02, data.subarray(100))),
  pdu(0x04, pdv(3, 0x02, Buffer.alloc(0))),
  release,
])

describe('PduStream', () => {
  it('splits PDUs and PDVs the same whatever the chunking', () => {
    for (const size of [1, 2, 5, 7, 13, 64, stream.length]) {
      const { stream: reading, seen } = reader()
      for (let at = 0; at < stream.length; at += size) reading.push(stream.subarray(at, at + size))
      expect(seen.errors, `chunks of ${size}`).toEqual([])
      expect(seen.control.map((bytes) => bytes[0])).toEqual([0x01, 0x05])
      expect(seen.control[0]!.subarray(6).toString()).toBe('associate request body')
      expect(seen.control[1]!.equals(release)).toBe(true)
      expect(seen.pdvs.map(({ context, command, last }) => [context, command, last])).toEqual([
        [1, true, true],
        [1, false, false],
        [1, false, true],
        [3, false, true],
      ])
      expect(Buffer.concat([seen.pdvs[1]!.value, seen.pdvs[2]!.value]).equals(data)).toBe(true)
    }
  })

  it('keeps nothing of a chunk after push returns: chunks read into one reused buffer come out the same', () => {
    for (const size of [3, 7, 64]) {
      const { stream: reading, seen } = reader()
      const lent = Buffer.alloc(size)
      for (let at = 0; at < stream.length; at += size) {
        const length = stream.copy(lent, 0, at, at + size)
        reading.push(lent.subarray(0, length))
        lent.fill(0xee)
      }
      expect(seen.errors, `chunks of ${size}`).toEqual([])
      expect(seen.control[0]!.subarray(6).toString()).toBe('associate request body')
      expect(seen.control[1]!.equals(release)).toBe(true)
      expect(seen.pdvs[0]!.value.toString()).toBe('command')
      expect(Buffer.concat([seen.pdvs[1]!.value, seen.pdvs[2]!.value]).equals(data)).toBe(true)
    }
  })

  it('hands PDV values on as slices of the chunk, never the whole PDU at once', () => {
    const slices: number[] = []
    const probe = new PduStream({ onControlPdu: () => {}, onPdvData: (_c, _k, _l, bytes) => slices.push(bytes.length), onProtocolError: () => {} })
    const big = pdu(0x04, pdv(1, 0x02, Buffer.alloc(100_000)))
    for (let at = 0; at < big.length; at += 16_384) probe.push(big.subarray(at, at + 16_384))
    expect(Math.max(...slices)).toBeLessThanOrEqual(16_384)
    expect(slices.reduce((a, b) => a + b, 0)).toBe(100_000)
  })

  it('reports an unknown PDU type, a PDV longer than its PDU, and an oversized control PDU, then stops', () => {
    const cases: [Buffer, RegExp][] = [
      [pdu(0x09, Buffer.alloc(2)), /unrecognised PDU type 0x9/],
      [pdu(0x04, Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.alloc(4)])), /PDV item of length 256/],
      [Buffer.from([0x01, 0, 0x7f, 0, 0, 0]), /control PDU/],
    ]
    for (const [bytes, message] of cases) {
      const { stream: reading, seen } = reader()
      reading.push(Buffer.concat([bytes, release]))
      expect(seen.errors).toHaveLength(1)
      expect(seen.errors[0]).toMatch(message)
      expect(seen.control).toEqual([])
    }
  })
})
