// The `dicomise` stage: a NIfTI result and its reference series in, a derived DICOM series out.
import { join } from 'node:path'
import { defineStage, PacsflowError, type RetryOptions, type Stage } from '@pacsflow/core'
import type { DicomSeries } from '@pacsflow/imaging'
import { encodeSeries, type EncodingReport } from './nifti-to-dicom.js'
import { resolveOptions, type DicomiseOptions } from './options.js'

/** What the stage encodes: a NIfTI file and the series it was aligned to. */
export interface DicomiseInput {
  /** Path of the NIfTI volume (e.g. the QSM susceptibility map in ppm). */
  readonly nifti: string
  /** The series the volume belongs to (the T1 or FGATIR it was registered to). */
  readonly reference: DicomSeries
  /** Which volume of the reference is the grid (`DicomVolume.id`; default its first). */
  readonly referenceVolume?: string
}

/** The written series (a `DicomSeries`, so sinks take it as it is), with where it is and how it was stored. */
export interface DicomiseOutput extends DicomSeries {
  /** The folder holding the series' files, inside the job's workDir. */
  readonly outputDir: string
  readonly encoding: EncodingReport
}

export interface DicomiseStageOptions<In> extends DicomiseOptions {
  /** Stage name (default `'dicomise'`): use another to encode two results in one pipeline. */
  readonly name?: string
  /** Picks the NIfTI and reference out of a richer input (e.g. a QSM stage's output). */
  readonly input?: (value: In) => DicomiseInput
  readonly retry?: RetryOptions
  readonly timeoutMs?: number
}

/**
 * The stage factory. Options are checked at once (`INVALID_OPTIONS`). The series is written to
 * `<workDir>/series/` (emptied first); its UIDs derive from the job id and the input, so a job that
 * runs again (resumed, retried) writes the same instances under the same UIDs.
 *
 * ```ts
 * pipeline(qsm).pipe(dicomise({ input: (r) => ({ nifti: r.chi, reference: r.t1 }), profile: 'brainlab' }))
 * ```
 */
export function dicomise(options?: DicomiseStageOptions<DicomiseInput> & { readonly input?: undefined }): Stage<DicomiseInput, DicomiseOutput>
export function dicomise<In>(options: DicomiseStageOptions<In> & { readonly input: (value: In) => DicomiseInput }): Stage<In, DicomiseOutput>
export function dicomise<In>(options: DicomiseStageOptions<In> = {}): Stage<In, DicomiseOutput> {
  const resolved = resolveOptions(options)
  const pick = options.input ?? ((value: In) => value as unknown as DicomiseInput)
  if (typeof pick !== 'function') throw new PacsflowError('INVALID_OPTIONS', 'dicomise: input must be a function')
  return defineStage<In, DicomiseOutput>({
    name: options.name ?? 'dicomise',
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    run: async (value, ctx) => {
      const input = checkedInput(pick(value))
      const result = await encodeSeries(
        {
          nifti: input.nifti,
          reference: input.reference,
          ...(input.referenceVolume === undefined ? {} : { referenceVolume: input.referenceVolume }),
          outDir: join(ctx.workDir, 'series'),
          uidSeed: ctx.jobId,
          clean: true,
          signal: ctx.signal,
          log: ctx.log,
          progress: (fraction, note) => ctx.progress(fraction, note),
        },
        resolved,
      )
      return { ...result.series, outputDir: result.outDir, encoding: result.encoding }
    },
  })
}

function checkedInput(input: DicomiseInput | undefined): DicomiseInput {
  if (input === undefined || typeof input.nifti !== 'string' || input.reference?.seriesInstanceUid === undefined) {
    throw new PacsflowError('DICOMISE_INPUT', 'dicomise: the input needs { nifti: path, reference: DicomSeries }', {
      details: { keys: input === undefined ? [] : Object.keys(input) },
    })
  }
  return input
}
