// The durable outbox: an append-only journal of what the PACS acknowledged, so a resumed job never sends it again.
import { createHash } from 'node:crypto'
import { close, fdatasync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fsyncDir } from '@pacsflow/core'

const fdatasyncAsync = promisify(fdatasync)
const closeAsync = promisify(close)

type Entry =
  | { readonly e: 'intent'; readonly sop: string }
  | { readonly e: 'ack'; readonly sop: string; readonly status: number; readonly via: 'c-store' | 'c-find' }
  | { readonly e: 'not-stored'; readonly sop: string }
  | { readonly e: 'retract'; readonly sop: string }

/** What the journal knows of an instance: acknowledged, or sent with its outcome unknown (a crash). */
type State = 'acked' | 'uncertain'

/** The journal's file name for one destination: a changed PACS address starts a fresh outbox. */
export function outboxFileName(host: string, port: number, calledAet: string): string {
  const key = createHash('sha256').update(`${host.toLowerCase()}\0${port}\0${calledAet}`).digest('hex').slice(0, 16)
  return `outbox-${key}.jsonl`
}

/**
 * One journal per job, stage and destination, in the stage's workDir. Each record is written
 * with one `write` before the send goes on, so it survives the process being killed at any
 * instant; `fdatasync` follows in the background (one at a time, coalescing the records written
 * meanwhile), so it survives power loss within one disk flush, without a flush per instance on
 * the sending path. `close` flushes what is left.
 */
export class Outbox {
  private readonly states = new Map<string, State>()
  private dirty = false
  private syncing: Promise<void> | undefined
  private syncError: unknown

  private constructor(private readonly fd: number, readonly path: string) {}

  static async open(dir: string, fileName: string): Promise<Outbox> {
    await mkdir(dir, { recursive: true })
    const path = join(dir, fileName)
    let text = ''
    try {
      text = readFileSync(path, 'latin1')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    const fd = openSync(path, 'a+')
    // A crash can leave half a record at the end: cut it, so the next record starts on its own line.
    const complete = text.lastIndexOf('\n') + 1
    if (complete < text.length) ftruncateSync(fd, complete)
    if (text === '') await fsyncDir(dir)
    const outbox = new Outbox(fd, path)
    outbox.replay(text.slice(0, complete))
    return outbox
  }

  private replay(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue
      this.apply(JSON.parse(line) as Entry)
    }
  }

  private apply(entry: Entry): void {
    if (entry.e === 'intent') {
      if (this.states.get(entry.sop) !== 'acked') this.states.set(entry.sop, 'uncertain')
    } else if (entry.e === 'ack') {
      this.states.set(entry.sop, 'acked')
    } else {
      this.states.delete(entry.sop)
    }
  }

  private append(entry: Entry): void {
    if (this.syncError !== undefined) throw this.syncError
    writeSync(this.fd, `${JSON.stringify(entry)}\n`)
    this.apply(entry)
    this.dirty = true
    this.syncing ??= this.flushLoop()
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false
        await fdatasyncAsync(this.fd)
      }
    } catch (error) {
      this.syncError = error
    } finally {
      this.syncing = undefined
    }
  }

  isAcknowledged(sopInstanceUid: string): boolean {
    return this.states.get(sopInstanceUid) === 'acked'
  }

  /** Instances whose send began but whose outcome was never recorded (the process died meanwhile). */
  isUncertain(sopInstanceUid: string): boolean {
    return this.states.get(sopInstanceUid) === 'uncertain'
  }

  get acknowledgedCount(): number {
    let count = 0
    for (const state of this.states.values()) if (state === 'acked') count++
    return count
  }

  /** Before the first byte of the instance goes out. */
  recordIntent(sopInstanceUid: string): void {
    this.append({ e: 'intent', sop: sopInstanceUid })
  }

  /** The PACS acknowledged it (success or warning), or a C-FIND found it there. */
  recordAck(sopInstanceUid: string, status: number, via: 'c-store' | 'c-find'): void {
    this.append({ e: 'ack', sop: sopInstanceUid, status, via })
  }

  /** The PACS answered and did not store it: its outcome is known, nothing is uncertain. */
  recordNotStored(sopInstanceUid: string): void {
    this.append({ e: 'not-stored', sop: sopInstanceUid })
  }

  /** Verification found it missing: forget the acknowledgement, so a retry sends it again. */
  recordRetract(sopInstanceUid: string): void {
    this.append({ e: 'retract', sop: sopInstanceUid })
  }

  /** Flushes every record to disk and closes the journal. */
  async close(): Promise<void> {
    try {
      await this.syncing
      if (this.syncError !== undefined) throw this.syncError
      await fdatasyncAsync(this.fd)
    } finally {
      await closeAsync(this.fd)
    }
  }
}
