// makeExam end to end in process: series selection, phase that encodes the truth field, determinism, options.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isAbortError, isPacsflowError } from '@pacsflow/core'
import { apply, groupStudies, indexDicom, loadVolume, qsmRoles, readNifti, scaledData, selectSeries, type DicomStudy } from '@pacsflow/imaging'
import { GAMMA_MHZ_PER_T } from './simulate.js'
import { makeExam, type ExamManifest } from './make-exam.js'
import type { ExamOptions } from './options.js'
import { LABEL } from './tissues.js'

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-exam-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let counter = 0
async function exam(options: ExamOptions): Promise<ExamManifest> {
  return makeExam(join(scratch, `exam-${++counter}`), { preset: 'small', ...options })
}

async function study(manifest: ExamManifest): Promise<DicomStudy> {
  const { instances, problems } = await indexDicom(manifest.dicomDir)
  expect(problems).toEqual([])
  const studies = groupStudies(instances)
  expect(studies).toHaveLength(1)
  return studies[0]!
}

/** Every file under a folder, by relative path, with its bytes. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.set(relative(dir, join(entry.parentPath, entry.name)), readFileSync(join(entry.parentPath, entry.name)))
  }
  return out
}

const wrap = (angle: number): number => angle - 2 * Math.PI * Math.round(angle / (2 * Math.PI))

// Each of these makes or runs a whole exam (7-20 s alone on 2 cores): a minute each, so a busy CI
// machine does not time them out, while a hang still fails.
describe('makeExam', () => {
  it('writes a small exam whose series qsmRoles selects: 4-echo magnitude and phase, and the T1', async () => {
    // No timing assertion: a loaded CI machine took 30 s where a quiet one takes 1-7 s (the README
    // has the measured figures); the test's timeout still catches a hang.
    const manifest = await exam({ preset: 'small', seed: 7 })
    expect([manifest.series.magnitude.files, manifest.series.phase.files, manifest.series.t1?.files]).toEqual([192, 192, 80])
    const s = await study(manifest)
    expect(s.series.map((series) => series.problems)).toEqual([[], [], []])
    expect(s.patientName).toBe('PHANTOM^QSM')
    const selected = selectSeries(s, qsmRoles)
    expect(selected.magnitude.series.seriesInstanceUid).toBe(manifest.series.magnitude.seriesInstanceUid)
    expect(selected.phase.series.seriesInstanceUid).toBe(manifest.series.phase.seriesInstanceUid)
    expect(selected.t1.series.seriesInstanceUid).toBe(manifest.series.t1?.seriesInstanceUid)
    expect(selected.fgatir).toBeUndefined()
    expect(selected.magnitude.volumes.map((v) => v.echoTime)).toEqual([4, 10, 16, 22])
    expect(selected.phase.volumes.map((v) => [v.echoNumber, v.complexComponent])).toEqual([1, 2, 3, 4].map((e) => [e, 'phase']))
    expect(new Set(s.series.map((series) => series.frameOfReferenceUid))).toEqual(new Set([manifest.frameOfReferenceUid]))
    const first = selected.phase.series.instances[0]!
    expect([first.magneticFieldStrength, first.imagingFrequency, first.mrAcquisitionType, first.bitsStored]).toEqual([3, 127.728, '3D', 12])
    expect(first.frames[0]).toMatchObject({ rescaleSlope: 2, rescaleIntercept: -4096 })
    const truth = JSON.parse(readFileSync(manifest.truth.json, 'utf8')) as { labels: { name: string; chi: number }[]; echoes: { echoTimesMs: number[] } }
    expect(truth.echoes.echoTimesMs).toEqual([4, 10, 16, 22])
    expect(truth.labels.find((l) => l.name === 'globus pallidus')?.chi).toBe(0.15)
  }, 60_000)

  it('encodes the truth in the DICOM: phase differences give the total field, magnitude the tissue signal (oblique, noise-free)', async () => {
    const manifest = await exam({ preset: 'small', oblique: 15, snr: Number.POSITIVE_INFINITY, t1: false })
    const { magnitude, phase } = selectSeries(await study(manifest), { magnitude: qsmRoles.magnitude, phase: qsmRoles.phase })
    const load = (which: typeof magnitude, echo: number) => loadVolume(which.series, which.volumes[echo]!)
    const [p1, p2, m1] = await Promise.all([load(phase, 0), load(phase, 1), load(magnitude, 0)])
    const total = await readNifti(manifest.truth.totalField)
    const labels = scaledData(await readNifti(manifest.truth.labels))
    // The truth is on the grid dcm2niix (and our toNifti) give the GRE series.
    for (const corner of [[0, 0, 0], [63, 63, 47], [63, 0, 47]] as const) {
      const [a, b] = [apply(p1.affine, corner), apply(total.header.affine, corner)]
      expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(1e-3)
    }
    const field = scaledData(total)
    const radiansPerPpm = 2 * Math.PI * GAMMA_MHZ_PER_T * 3 * 6e-3
    const toRadians = (stored: number, scaled: { sclSlope: number; sclInter: number }): number => (((stored * scaled.sclSlope + scaled.sclInter + 4096) / 8192) * 2 * Math.PI) - Math.PI
    let worst = 0
    let checked = 0
    for (let i = 0; i < field.length; i++) {
      if (labels[i] !== LABEL.whiteMatter && labels[i] !== LABEL.greyMatter) continue
      const measured = wrap(toRadians(p2.data[i]!, p2) - toRadians(p1.data[i]!, p1))
      worst = Math.max(worst, Math.abs(wrap(measured - radiansPerPpm * field[i]!)))
      checked++
    }
    expect(checked).toBeGreaterThan(10000)
    // Two 12-bit phase quantisations: at most 2 x pi/4096 apart.
    expect(worst).toBeLessThan(0.002)
    // White matter at echo 1 is the configured 1000 (away from partial-volume edges: the median).
    const whiteMatter = [...labels.keys()].filter((i) => labels[i] === LABEL.whiteMatter).map((i) => m1.data[i]!).sort((x, y) => x - y)
    expect(whiteMatter[whiteMatter.length >> 1]).toBe(1000)
  }, 60_000)

  it('is deterministic: the same seed gives identical bytes, another seed other noise and UIDs', async () => {
    const [a, b, c] = await Promise.all([exam({ seed: 3 }), exam({ seed: 3 }), exam({ seed: 4 })])
    const [ta, tb, tc] = [tree(a.outDir), tree(b.outDir), tree(c.outDir)]
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort())
    expect(ta.size).toBe(192 + 192 + 80 + 6)
    for (const [path, bytes] of ta) expect(bytes.equals(tb.get(path)!), path).toBe(true)
    const echo = join('dicom', '03_gre_qsm_4echo', 'E1_IM0024.dcm')
    expect(ta.get(echo)!.equals(tc.get(echo)!)).toBe(false)
    expect(a.studyInstanceUid).not.toBe(c.studyInstanceUid)
    // The truth does not depend on the noise.
    expect(ta.get(join('truth', 'chi.nii'))!.equals(tc.get(join('truth', 'chi.nii'))!)).toBe(true)
  }, 60_000)

  it('moves the head in the T1 by the misalignment it records', async () => {
    const moved = await exam({ t1: { misalignment: { translationMm: [6, 0, -4], rotationDegrees: [0, 0, 5] } }, echoes: 1 })
    const still = await exam({ echoes: 1 })
    const centroid = async (manifest: ExamManifest): Promise<number[]> => {
      const { t1 } = selectSeries(await study(manifest), { t1: qsmRoles.t1 })
      const volume = await loadVolume(t1.series, t1.volumes[0]!)
      const [nx, ny] = volume.dims as [number, number, number]
      const sum = [0, 0, 0]
      let weight = 0
      volume.data.forEach((value, i) => {
        if (value < 300) return
        const p = apply(volume.affine, [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))])
        p.forEach((v, axis) => (sum[axis]! += v))
        weight++
      })
      return sum.map((v) => v / weight)
    }
    const [a, b] = [await centroid(moved), await centroid(still)]
    // RAS: +6 mm along L is -6 along R; z unchanged in sign.
    expect(a[0]! - b[0]!).toBeCloseTo(-6, 0)
    expect(a[1]! - b[1]!).toBeCloseTo(0, 0)
    expect(a[2]! - b[2]!).toBeCloseTo(-4, 0)
    const truth = JSON.parse(readFileSync(moved.truth.json, 'utf8')) as { t1: { misalignment: { translationMm: number[]; greToT1WorldLps: number[][] } } }
    expect(truth.t1.misalignment.translationMm).toEqual([6, 0, -4])
    expect(truth.t1.misalignment.greToT1WorldLps[0]![1]).toBeCloseTo(-Math.sin((5 * Math.PI) / 180), 9)
  }, 60_000)

  it('refuses bad options with INVALID_OPTIONS, and a folder holding something else', async () => {
    const bad: ExamOptions[] = [
      { preset: 'huge' as 'small' },
      { snr: -1 },
      { echoes: 0 },
      { oblique: 45 },
      { seed: 1.5 },
      { t1: { plane: 'coronal' as 'axial' } },
      { acquisition: { dteMs: 0 } },
    ]
    for (const options of bad) {
      const error = await makeExam(join(scratch, 'never'), options).catch((e: unknown) => e)
      expect(isPacsflowError(error, 'INVALID_OPTIONS'), JSON.stringify(options)).toBe(true)
    }
    const occupied = join(scratch, 'occupied')
    rmSync(occupied, { recursive: true, force: true })
    await makeExam(join(occupied, 'x'), { preset: 'small', t1: false, echoes: 1 })
    writeFileSync(join(occupied, 'notes.txt'), 'mine')
    const error = await makeExam(occupied, {}).catch((e: unknown) => e)
    expect(isPacsflowError(error, 'INVALID_OPTIONS')).toBe(true)
    expect(readFileSync(join(occupied, 'notes.txt'), 'utf8')).toBe('mine')
    const aborted = await makeExam(join(scratch, 'aborted'), { signal: AbortSignal.abort() }).catch((e: unknown) => e)
    expect(isAbortError(aborted)).toBe(true)
  })
})
