// A brain mask given as a NIfTI file (e.g. from the T1), brought onto the GRE grid by nearest-neighbour resampling.
import { PacsflowError } from '@pacsflow/core'
import { nearlyEqual, readNifti, resampleToGrid, scaledData } from '@pacsflow/imaging'
import type { LoadedGre } from './input.js'
import type { Mask } from './morphology.js'

/** Reads the mask (non-zero = inside); on another grid it is resampled through both affines (same world assumed). */
export async function loadMaskFile(path: string, gre: Pick<LoadedGre, 'dims' | 'affine'>): Promise<Mask> {
  const image = await readNifti(path)
  const values = scaledData(image)
  const dims = image.header.dims
  if (dims.length !== 3 && !(dims.length === 4 && dims[3] === 1)) {
    throw new PacsflowError('QSM_INPUT', `the mask ${path} must be a 3D volume, got dims ${dims.join('x')}`)
  }
  const same = dims.slice(0, 3).every((n, i) => n === gre.dims[i]) && nearlyEqual(image.header.affine, gre.affine, 1e-3)
  const onGre = same ? values : resampleToGrid(values, dims.slice(0, 3), image.header.affine, gre.dims, gre.affine, { interpolation: 'nearest' })
  const mask = new Uint8Array(onGre.length)
  let count = 0
  for (let i = 0; i < mask.length; i++) {
    mask[i] = (onGre[i] as number) !== 0 ? 1 : 0
    count += mask[i] as number
  }
  if (count === 0) throw new PacsflowError('QSM_INPUT', `the mask ${path} is empty on the GRE grid`)
  return mask
}
