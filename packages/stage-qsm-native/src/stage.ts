// The qsm-native stage: GRE echoes in (DICOM or NIfTI), QSM out as NIfTI in the job's workDir, described by QsmResult.
import { defineStage, type Stage } from '@pacsflow/core'
import type { QsmInput, QsmResult } from '@pacsflow/imaging'
import { runQsm, type QsmArrays } from './engine.js'
import { loadGre, type LoadedGre } from './input.js'
import { loadMaskFile } from './mask-file.js'
import { resolveOptions, type QsmNativeOptions, type ResolvedOptions } from './options.js'
import { resolveTarget, writeResults } from './output.js'

/** Progress given to loading, the engine and writing. */
const LOAD = 0.1
const WRITE = 0.08

/**
 * The native QSM stage. Options are checked at once (`INVALID_OPTIONS`). It loads the echoes,
 * runs mask, Laplacian unwrapping, the multi-echo fit, background removal and dipole inversion
 * (see the README for each step and its source), and writes `chi`, `mask`, `local-field` (and
 * `chi-<target>` when a T1 or FGATIR is given) into `ctx.workDir`.
 *
 * ```ts
 * pipeline(selectQsmSeries).pipe(qsmNative()).pipe(dicomise({ input: qsmDicomiseInput }))
 * ```
 */
export function qsmNative(options: QsmNativeOptions = {}): Stage<QsmInput, QsmResult> {
  const resolved = resolveOptions(options)
  return defineStage<QsmInput, QsmResult>({
    name: resolved.name,
    run: async (input, ctx) => {
      const started = performance.now()
      ctx.progress(0, 'load')
      const gre = await loadGre(input, ctx.signal)
      const target = resolveTarget(input)
      const load = Math.round(performance.now() - started)
      ctx.log.info({ dims: gre.dims, echoes: gre.echoTimesMs.length, echoTimesMs: gre.echoTimesMs, fieldStrengthT: gre.fieldStrengthT, target: target.role }, 'qsm-native: loaded the GRE')
      const arrays = await run(gre, resolved, ctx.signal, (fraction, note) => ctx.progress(LOAD + (1 - LOAD - WRITE) * fraction, note), (message) => ctx.log.warn(message))
      ctx.progress(1 - WRITE, 'write')
      const writeStarted = performance.now()
      const files = await writeResults({ dir: ctx.workDir, dims: gre.dims, affine: gre.affine, arrays, target, gzip: resolved.gzip, signal: ctx.signal })
      const timings = { load, ...arrays.timings, write: Math.round(performance.now() - writeStarted) }
      ctx.log.info({ timings, threads: arrays.threads, files }, 'qsm-native: done')
      ctx.progress(1, 'done')
      return {
        engine: 'native',
        chi: files.chi,
        chiOnTarget: files.chiOnTarget,
        mask: files.mask,
        localField: files.localField,
        target: { role: target.role, ...(target.series === undefined ? {} : { series: target.series }), ...(target.volumeId === undefined ? {} : { volumeId: target.volumeId }) },
        fieldStrengthT: gre.fieldStrengthT,
        echoTimesMs: gre.echoTimesMs,
        timings,
      }
    },
  })
}

async function run(gre: LoadedGre, options: ResolvedOptions, signal: AbortSignal, progress: (fraction: number, note: string) => void, warn: (message: string) => void): Promise<QsmArrays> {
  const mask = 'file' in options.mask ? await loadMaskFile(options.mask.file, gre) : undefined
  return runQsm(
    {
      shape: gre.dims,
      voxelSizeMm: gre.voxelSizeMm,
      b0DirectionVoxel: gre.b0DirectionVoxel,
      magnitudes: gre.magnitudes,
      phases: gre.phases,
      echoTimesMs: gre.echoTimesMs,
      larmorMHz: gre.larmorMHz,
      ...(mask === undefined ? {} : { mask }),
    },
    options,
    { signal, progress, warn },
  )
}
