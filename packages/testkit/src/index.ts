// @pacsflow/testkit: test helpers for pacsflow pipelines: a loopback PACS, the synthetic QSM exam with known susceptibility, and the QSM scorer.
export { freePort, startOrthanc, type OrthancOptions, type OrthancServer } from './orthanc.js'
export { copyTestSeries, haveTools, nibabelPython, testDataDir } from './tools.js'
export { makeExam, HEAD_CENTRE_LPS, type ExamManifest, type ExamSeries } from './exam/make-exam.js'
export {
  resolveExamOptions,
  type AcquisitionOptions,
  type ExamOptions,
  type ExamPreset,
  type Misalignment,
  type ResolvedExam,
  type ResolvedT1,
  type T1Options,
} from './exam/options.js'
export { TISSUES, type Tissue } from './exam/tissues.js'
export { TRUTH_FILE_NAMES, type TruthFiles, type TruthLabel } from './exam/truth.js'
export { dipoleFields, sphereField, type DipoleFieldRequest, type DipoleKernelKind } from './exam/forward.js'
export { scoreQsm, type ScoreOptions } from './score/score-qsm.js'
export { correlation, erodeMask, hfen, linearFit, nrmse, scoreVolumes, type QsmScore, type RoiScore, type ScoreVolumes } from './score/metrics.js'
export { laplacianOfGaussian } from './score/filters.js'
export { formatScore } from './score/format.js'
export type { ScoreErrorCode } from './score/errors.js'
