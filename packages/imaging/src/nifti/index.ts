// NIfTI-1/NIfTI-2 reading and NIfTI-1 writing, with the qform quaternion conversions.
export { affineToQuaternion, quaternionToAffine } from './quaternion.js'
export { readNifti, readNiftiHeader, scaledData } from './read.js'
export { encodeNifti1 } from './encode.js'
export { writeNifti, type NiftiWriteOptions } from './write.js'
export type {
  Mat4,
  NiftiData,
  NiftiDatatype,
  NiftiHeader,
  NiftiImage,
  NiftiQuaternion,
  NiftiSpaceUnits,
  NiftiTimeUnits,
  NiftiWriteInput,
} from './types.js'
