// The exam against real tools: dciodvfy finds no error in any series, dcm2niix and our toNifti both
// convert it to per-echo magnitude/phase NIfTIs on exactly the truth's grid (axial and oblique).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { groupStudies, indexDicom, readNifti, toNifti, type Mat4 } from '@pacsflow/imaging'
import { haveTools, nibabelPython } from '../tools.js'
import { makeExam, type ExamManifest } from './make-exam.js'

const ready = haveTools('dciodvfy', 'dcm2niix')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-exam-int-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The first, a middle and the last file of every echo of a series. */
function sampleFiles(dir: string): string[] {
  const files = readdirSync(dir).sort()
  const byEcho = new Map<string, string[]>()
  for (const file of files) byEcho.set(file.split('IM')[0]!, [...(byEcho.get(file.split('IM')[0]!) ?? []), file])
  return [...byEcho.values()].flatMap((list) => [list[0]!, list[list.length >> 1]!, list[list.length - 1]!]).map((file) => join(dir, file))
}

function dciodvfyErrors(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    // dciodvfy reports on stderr; both streams are read.
    const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' })
    if (run.error !== undefined) throw run.error
    return `${run.stdout}${run.stderr}`.split('\n').filter((line) => /^\s*Error/.test(line)).map((line) => `${file}: ${line}`)
  })
}

/**
 * The local field recomputed independently with numpy (fftfreq frequencies, padding after the
 * data rather than around it): the largest difference from local-field.nii in the mask, ppm.
 */
const NUMPY_FORWARD = `
import json, sys, numpy as np, nibabel as nib
d = sys.argv[1]
load = lambda name: np.asarray(nib.load(d + '/' + name).dataobj, dtype=np.float64)
chi, mask, local = load('chi.nii'), load('mask.nii') > 0, load('local-field.nii')
truth = json.load(open(d + '/truth.json'))
b = np.array(truth['b0']['directionVoxel']); voxel = truth['gre']['nifti']['voxelMm']
pad = [2 * n for n in chi.shape]
k = np.meshgrid(*[np.fft.fftfreq(p, v) for p, v in zip(pad, voxel)], indexing='ij')
k2 = sum(x * x for x in k); kb = sum(x * c for x, c in zip(k, b))
k2[0, 0, 0] = 1
kernel = 1 / 3 - kb ** 2 / k2; kernel[0, 0, 0] = 0
field = np.real(np.fft.ifftn(kernel * np.fft.fftn(chi, pad)))[:chi.shape[0], :chi.shape[1], :chi.shape[2]]
print(json.dumps({'maxDifference': float(np.abs(field - local)[mask].max()), 'rms': float(np.sqrt((local[mask] ** 2).mean()))}))
`

function maxDifference(a: Mat4, b: Mat4): number {
  return Math.max(...a.flatMap((row, r) => row.map((v, c) => Math.abs(v - b[r]![c]!))))
}

describe.skipIf(!ready)('the synthetic exam with real tools', () => {
  const exams = {
    axial: makeExam(join(scratch, 'axial'), { preset: 'small', seed: 5 }),
    oblique: makeExam(join(scratch, 'oblique'), { preset: 'small', seed: 5, oblique: 15, t1: { plane: 'axial', misalignment: { rotationDegrees: [3, 0, 2] } } }),
  }

  it.each(['axial', 'oblique'] as const)('%s: dciodvfy reports no error in magnitude, phase or T1 files', async (name) => {
    const exam = await exams[name]
    const files = [exam.series.magnitude.dir, exam.series.phase.dir, exam.series.t1!.dir].flatMap(sampleFiles)
    expect(files.length).toBe(12 + 12 + 3)
    expect(dciodvfyErrors(files)).toEqual([])
  })

  it.each(['axial', 'oblique'] as const)('%s: dcm2niix writes 4 magnitude and 4 phase NIfTIs on the truth grid', async (name) => {
    const exam: ExamManifest = await exams[name]
    const out = join(scratch, `${name}-dcm2niix`)
    mkdirSync(out)
    const run = spawnSync('dcm2niix', ['-o', out, '-f', '%s_%p_e%e', exam.dicomDir], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const truth = await readNifti(exam.truth.chi)
    const names = readdirSync(out).filter((file) => file.endsWith('.nii')).sort()
    const gre = names.filter((file) => file.startsWith('3_') || file.startsWith('4_'))
    expect(gre).toEqual([1, 2, 3, 4].map((e) => `3_gre_qsm_4echo_e${e}.nii`).concat([1, 2, 3, 4].map((e) => `4_gre_qsm_4echo_e${e}_ph.nii`)))
    for (const file of gre) {
      const image = await readNifti(join(out, file))
      expect(image.header.dims, file).toEqual(truth.header.dims)
      // dcm2niix writes float32 affines: equal to the truth's within its rounding.
      expect(maxDifference(image.header.affine, truth.header.affine), file).toBeLessThan(1e-4)
    }
    expect(names.some((file) => file.startsWith('2_t1_mprage'))).toBe(true)
  })

  it.each(['axial', 'oblique'] as const)('%s: our toNifti gives the same grid and the same voxels as dcm2niix', async (name) => {
    const exam = await exams[name]
    const { instances } = await indexDicom(exam.dicomDir)
    const series = groupStudies(instances)[0]!.series
    const outDir = join(scratch, `${name}-ours`)
    const truth = await readNifti(exam.truth.chi)
    for (const s of series.filter((candidate) => candidate.seriesNumber !== 2)) {
      for (const output of await toNifti(s, { outDir })) {
        const ours = await readNifti(output.niftiPath)
        expect(maxDifference(ours.header.affine, truth.header.affine), output.niftiPath).toBeLessThan(1e-4)
        const theirs = await readNifti(join(scratch, `${name}-dcm2niix`, `${s.seriesNumber}_gre_qsm_4echo_e${output.echoNumber}${output.complexComponent === 'phase' ? '_ph' : ''}.nii`))
        expect(Buffer.from(ours.data.buffer, ours.data.byteOffset, ours.data.byteLength).equals(Buffer.from(theirs.data.buffer, theirs.data.byteOffset, theirs.data.byteLength)), output.niftiPath).toBe(true)
      }
    }
  })

  it('oblique: numpy computes the same local field from chi.nii and truth.json', async () => {
    const python = nibabelPython()
    if (python === undefined) return
    const exam = await exams.oblique
    const run = spawnSync(python, ['-c', NUMPY_FORWARD, exam.truth.dir], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const { maxDifference: worst, rms } = JSON.parse(run.stdout) as { maxDifference: number; rms: number }
    expect(rms).toBeGreaterThan(0.005)
    // float32 storage of chi and the field: 1e-7 relative, far below the field's 0.01 ppm.
    expect(worst).toBeLessThan(1e-5)
  })
})
