// Resampling between voxel grids (trilinear or nearest), shared by the QSM stages and stage-dicomise.
export { resampleGrid, resampleToGrid, type Grid, type Interpolation, type ResampleOptions } from './resample.js'
