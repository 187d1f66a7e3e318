// Test helpers: real reference series unpacked from the shared data, synthetic NIfTI inputs, and dcm2niix.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { copyTestSeries } from '@pacsflow/testkit'
import { apply, groupStudies, indexDicom, readNifti, writeNifti, type DicomSeries, type Mat4, type NiftiImage, type Vec3 } from '@pacsflow/imaging'

/** The real references the geometry is checked on (README of the shared data), with dcm2niix's own NIfTI of each (`Ref/`). */
export const referenceCases = [
  { name: 'axial (Siemens VE11 field map)', folder: 'dcm_qa_fmap/Siemens_2_gre_field_magph', seriesNumber: 2, ref: 'Si_2_gre_field_magph_e1.nii' },
  { name: 'sagittal 3D T1 (Siemens XA30)', folder: 'dcm_qa_xa30i/5001_anat-T1w_acq-tfl', seriesNumber: 5001, ref: '5001_anat-T1w_acq-tfl.nii.gz' },
  {
    name: 'oblique ~12 degrees (Siemens XA30 field map)',
    folder: 'dcm_qa_xa30i/gre_field_mapping_9001_9002_10001',
    seriesNumber: 9001,
    ref: '9001_gre_field_mapping_e1.nii.gz',
  },
  {
    name: 'oblique ~3.5 degrees (Philips)',
    folder: 'dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping',
    seriesNumber: 2001,
    ref: '2001_WIP_fcMRI_Field_Mapping_cl_e1.nii.gz',
  },
] as const

/** A copy of a case's DICOM with `.dcm.gz` files gunzipped (as the data's README asks). */
export function unpack(dataDir: string, folder: string, scratch: string): string {
  const target = join(scratch, `ref-${folder.replace(/\//g, '_')}`)
  copyTestSeries(folder, target, dataDir)
  return target
}

export async function loadSeries(dir: string, seriesNumber: number): Promise<DicomSeries> {
  const { instances, problems } = await indexDicom(dir)
  if (problems.length > 0) throw new Error(`unreadable reference files: ${problems.map((p) => p.path).join(', ')}`)
  const series = groupStudies(instances)
    .flatMap((study) => study.series)
    .find((candidate) => candidate.seriesNumber === seriesNumber)
  if (series === undefined) throw new Error(`no series ${seriesNumber} in ${dir}`)
  return series
}

/** Writes a float32 NIfTI whose voxel (i, j, k) holds f(i, j, k, RAS position). */
export async function syntheticNifti(
  path: string,
  dims: readonly [number, number, number],
  affine: Mat4,
  f: (index: Vec3, ras: Vec3) => number,
): Promise<Float32Array> {
  const data = new Float32Array(dims[0] * dims[1] * dims[2])
  let n = 0
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) data[n++] = f([i, j, k], apply(affine, [i, j, k]))
    }
  }
  await writeNifti(path, { data, dims, affine })
  return data
}

/** Converts a DICOM folder with dcm2niix and reads the one NIfTI it writes. */
export async function dcm2niix(dicomDir: string, outDir: string): Promise<NiftiImage> {
  mkdirSync(outDir, { recursive: true })
  execFileSync('dcm2niix', ['-b', 'n', '-z', 'n', '-f', 'roundtrip', '-o', outDir, dicomDir], { stdio: 'pipe' })
  const written = readdirSync(outDir).filter((name) => name.endsWith('.nii'))
  if (written.length !== 1) throw new Error(`dcm2niix wrote ${written.length} NIfTI files: ${written.join(', ')}`)
  return readNifti(join(outDir, written[0]!))
}

/** dciodvfy's error lines for each file that has any (its warnings are not errors). */
export function dciodvfyErrors(files: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const file of files) {
    // dciodvfy reports on stderr; both streams are read.
    const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' })
    if (run.error !== undefined) throw run.error
    const errors = `${run.stdout}${run.stderr}`.split('\n').filter((line) => /^\s*Error/.test(line))
    if (errors.length > 0) out[file] = errors
  }
  return out
}
