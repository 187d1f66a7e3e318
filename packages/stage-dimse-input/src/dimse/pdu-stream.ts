// A streaming reader of the bytes of a DICOM upper layer connection: whole control PDUs, and P-DATA-TF values as slices of what arrived.
import { PduType } from './constants.js'

export interface PduStreamHandler {
  /** A whole PDU other than P-DATA-TF, its 6-byte header included (A-ASSOCIATE-RQ, A-RELEASE-RQ, A-ABORT...). */
  onControlPdu(pdu: Buffer): void
  /**
   * A part of one PDV's value, in order (PS3.8 9.3.5). `pdvEnd` marks the part that ends the
   * PDV; `lastFragment` (from its message control header, PS3.8 E.2) says that PDV ends the
   * command or data set. The slice shares memory with the chunk being pushed, which the caller
   * may reuse once `push` returns: copy what must outlive the call.
   */
  onPdvData(presentationContextId: number, isCommand: boolean, lastFragment: boolean, bytes: Buffer, pdvEnd: boolean): void
  /** The peer broke the protocol (unknown PDU type, a PDV longer than its PDU...): abort. */
  onProtocolError(message: string): void
}

const enum State {
  PduHeader,
  ControlBody,
  PdvHeader,
  PdvValue,
  Failed,
}

/** Control PDUs are small (an A-ASSOCIATE-RQ with 128 contexts is under 100 KB); anything larger is refused. */
const MAX_CONTROL_PDU = 1024 * 1024

/**
 * Splits the byte stream into PDUs (PS3.8 9.3.1: type, reserved byte, 32-bit big-endian length)
 * and P-DATA-TF PDUs into PDVs (4-byte length, presentation context ID, message control
 * header), without ever holding a whole P-DATA-TF PDU: a data set streams through in the
 * slices the socket delivered.
 */
export class PduStream {
  private state = State.PduHeader
  private readonly header = Buffer.alloc(6)
  private headerFill = 0
  private pduRemaining = 0
  private controlParts: Buffer[] = []
  private controlRemaining = 0
  private pdvRemaining = 0
  private pdvContext = 0
  private pdvCommand = false
  private pdvLast = false

  constructor(private readonly handler: PduStreamHandler) {}

  /** Feeds one chunk from the socket (kept by nothing after the call: the reader may reuse it). */
  push(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length && this.state !== State.Failed) {
      switch (this.state) {
        case State.PduHeader:
          at = this.fillHeader(chunk, at, 6)
          if (this.headerFill === 6) this.startPdu()
          break
        case State.ControlBody:
          at = this.readControl(chunk, at)
          break
        case State.PdvHeader:
          at = this.fillHeader(chunk, at, 6)
          if (this.headerFill === 6) this.startPdv()
          break
        case State.PdvValue:
          at = this.readPdvValue(chunk, at)
          break
      }
    }
  }

  private fillHeader(chunk: Buffer, at: number, size: number): number {
    const take = Math.min(size - this.headerFill, chunk.length - at)
    chunk.copy(this.header, this.headerFill, at, at + take)
    this.headerFill += take
    return at + take
  }

  private fail(message: string): void {
    this.state = State.Failed
    this.handler.onProtocolError(message)
  }

  private startPdu(): void {
    this.headerFill = 0
    const type = this.header[0]!
    const length = this.header.readUInt32BE(2)
    if (type === PduType.PDataTf) {
      this.pduRemaining = length
      this.state = length === 0 ? State.PduHeader : State.PdvHeader
      return
    }
    if (type < PduType.AssociateRq || type > PduType.Abort) return this.fail(`unrecognised PDU type 0x${type.toString(16)}`)
    if (length > MAX_CONTROL_PDU) return this.fail(`a ${length}-byte control PDU (type 0x${type.toString(16)})`)
    this.controlParts = [Buffer.from(this.header)]
    this.controlRemaining = length
    this.state = State.ControlBody
    if (length === 0) this.endControl()
  }

  private readControl(chunk: Buffer, at: number): number {
    const take = Math.min(this.controlRemaining, chunk.length - at)
    // Copied: a control PDU can span several chunks, and the reader reuses its buffer.
    this.controlParts.push(Buffer.from(chunk.subarray(at, at + take)))
    this.controlRemaining -= take
    if (this.controlRemaining === 0) this.endControl()
    return at + take
  }

  private endControl(): void {
    const pdu = Buffer.concat(this.controlParts)
    this.controlParts = []
    this.state = State.PduHeader
    this.handler.onControlPdu(pdu)
  }

  private startPdv(): void {
    this.headerFill = 0
    const itemLength = this.header.readUInt32BE(0)
    // The item length counts the context ID and control header (2 bytes) and the value.
    if (itemLength < 2 || itemLength + 4 > this.pduRemaining) {
      return this.fail(`a PDV item of length ${itemLength} in a P-DATA-TF with ${this.pduRemaining} bytes left`)
    }
    this.pduRemaining -= itemLength + 4
    this.pdvContext = this.header[4]!
    const control = this.header[5]!
    this.pdvCommand = (control & 0x01) !== 0
    this.pdvLast = (control & 0x02) !== 0
    this.pdvRemaining = itemLength - 2
    this.state = State.PdvValue
    if (this.pdvRemaining === 0) this.endPdv(Buffer.alloc(0))
  }

  private readPdvValue(chunk: Buffer, at: number): number {
    const take = Math.min(this.pdvRemaining, chunk.length - at)
    this.pdvRemaining -= take
    const bytes = chunk.subarray(at, at + take)
    if (this.pdvRemaining === 0) this.endPdv(bytes)
    else this.handler.onPdvData(this.pdvContext, this.pdvCommand, this.pdvLast, bytes, false)
    return at + take
  }

  private endPdv(bytes: Buffer): void {
    this.state = this.pduRemaining > 0 ? State.PdvHeader : State.PduHeader
    this.handler.onPdvData(this.pdvContext, this.pdvCommand, this.pdvLast, bytes, true)
  }
}
