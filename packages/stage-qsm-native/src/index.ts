// @pacsflow/stage-qsm-native: QSM in TypeScript (Laplacian unwrapping, multi-echo fit, single-step/PDF/V-SHARP, RTS/TKD), the stage and each step.
export { qsmNative } from './stage.js'
export {
  DEFAULT_LSMR_ITERATIONS,
  DEFAULT_RTS_MU,
  DEFAULT_VSHARP_RADII_MM,
  resolveOptions as resolveQsmOptions,
  type QsmNativeOptions,
  type ResolvedOptions as ResolvedQsmOptions,
  type RtsParameters,
  type SingleStepParameters,
} from './options.js'
export { runQsm, type EngineHooks, type QsmArrays, type QsmData } from './engine.js'
export { b0InVoxelAxes, GAMMA_BAR_MHZ_PER_T, loadGre, type LoadedGre } from './input.js'
export { resolveTarget, writeResults, type ResolvedTarget, type WriteRequest, type WrittenFiles } from './output.js'
export { brainMask, combineMagnitudes, otsuThreshold, percentile, type BrainMaskOptions } from './brain-mask.js'
export { connectedComponents, countMask, dilate, erode, fillHoles, largestComponent, squaredDistance, type Mask } from './morphology.js'
export { laplacianUnwrap, wrappedLaplacian, type LaplacianForm, type UnwrapOptions } from './unwrap.js'
export { fitField, type FieldFit, type PhaseOffset } from './echo-fit.js'
export { vsharp, type BackgroundRemoval, type VsharpOptions } from './vsharp.js'
export { conjugateGradient, pdf, type PdfOptions } from './pdf.js'
export { fieldWeights, SINGLE_STEP_DEFAULTS, singleStepQsm, type SingleStepOptions, type SingleStepResult } from './single-step.js'
export { RTS_DEFAULTS, rts, tkd, type DipoleGrid, type RtsOptions } from './inversion.js'
export { lsmr, type LinearOperator } from './lsmr.js'
export { gradient, gradientAdjoint } from './gradient.js'
export { dipoleKernelHalf, negativeLaplacianHalf, sphereKernelHalf } from './kernels.js'
export { referenceToMean } from './reference.js'
export { boundingBox, fromBox, maskToBox, paddedBox, toBox, type Box, type PaddedBox } from './box.js'
export { loadMaskFile } from './mask-file.js'
export { version } from './version.js'
