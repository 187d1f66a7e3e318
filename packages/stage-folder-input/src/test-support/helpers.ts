// Test helpers: synthetic instances, temp folders, and reading deliveries from a source with a time limit.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { silentLogger, type Delivery, type Source } from '@pacsflow/core'
import { writePart10, type DicomStudy, type RawDict } from '@pacsflow/imaging'

const MR = '1.2.840.10008.5.1.4.1.1.4'

/** A small MR instance (8x8, 16-bit) whose pixels depend on `slice`. */
export function syntheticDicom(study: string, series: string, slice: number): Uint8Array {
  const pixels = new Uint16Array(64).map((_, i) => i + slice * 64)
  const sop = `${series}.${slice + 1}`
  const meta: RawDict = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [MR] },
    '00020003': { vr: 'UI', Value: [sop] },
    '00020010': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] },
    '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.10.1'] },
  }
  const dict: RawDict = {
    '00080016': { vr: 'UI', Value: [MR] },
    '00080018': { vr: 'UI', Value: [sop] },
    '00080060': { vr: 'CS', Value: ['MR'] },
    '0020000D': { vr: 'UI', Value: [study] },
    '0020000E': { vr: 'UI', Value: [series] },
    '00200013': { vr: 'IS', Value: [slice + 1] },
    '00200032': { vr: 'DS', Value: [0, 0, slice] },
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [8] },
    '00280011': { vr: 'US', Value: [8] },
    '00280030': { vr: 'DS', Value: [1, 1] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OW', Value: [pixels.buffer] },
  }
  return writePart10({ meta, dict })
}

export function useTempDirs(): () => Promise<string> {
  const made: string[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-folder-input-'))
    made.push(dir)
    return dir
  }
}

/** Opens a source; `next` reads one delivery within a time limit; `close` aborts and ends it. */
export function openSource(source: Source<DicomStudy>) {
  const controller = new AbortController()
  const iterator = source.open({ signal: controller.signal, log: silentLogger })[Symbol.asyncIterator]()
  return {
    async next(limitMs = 10_000): Promise<Delivery<DicomStudy>> {
      let timer: NodeJS.Timeout | undefined
      const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no delivery in time')), limitMs)))
      try {
        const result = await Promise.race([iterator.next(), limit])
        if (result.done === true) throw new Error('the source ended')
        return result.value
      } finally {
        clearTimeout(timer)
      }
    },
    async nothingWithin(ms: number): Promise<boolean> {
      const outcome = await Promise.race([iterator.next().then(() => 'yielded'), new Promise((resolve) => setTimeout(() => resolve('nothing'), ms))])
      return outcome === 'nothing'
    },
    async close(): Promise<void> {
      controller.abort()
      await iterator.return?.(undefined)
    },
    iterator,
  }
}

/** Polls `condition` every 20 ms for at most `limitMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const instancePaths = (study: DicomStudy): string[] => study.series.flatMap((s) => s.instances.map((i) => i.path))
