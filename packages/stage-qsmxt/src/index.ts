// @pacsflow/stage-qsmxt: QSM through the seed system's tools (dcm2niix, HD-BET, ANTs or elastix, QSMxT), locally or in containers, GPU-aware.
export type { QsmxtErrorCode } from './errors.js'
export { qsmxt, type QsmxtResult, type QsmxtStage, type QsmxtToolReport } from './stage.js'
export {
  DEFAULT_COMMANDS,
  resolveOptions,
  TOOL_NAMES,
  type QsmxtOptions,
  type ResolvedOptions,
  type ResolvedTool,
  type Runtime,
  type ToolName,
  type ToolOptions,
} from './options.js'
export {
  antsApplyTransformsArgs,
  antsRegistrationArgs,
  commandLine,
  dcm2niixArgs,
  elastixArgs,
  hdBetArgs,
  hdBetMaskPath,
  qsmxtArgs,
  qsmxtChimapPath,
  VERSION_PROBES,
  type Bind,
  type CommandLine,
  type ContainerSettings,
  type GpuUse,
  type LaunchSpec,
} from './command-lines.js'
export { parseHdBetCli, parseQsmxtVersion, type ToolVersion } from './versions.js'
export { itkLinearToMatrix, lpsToRasTransform, parseElastixParameters, parseMatlabV4, readElastixTransform, readItkMatTransform, type MatVariable } from './transforms.js'
export { elastixRigidParameters } from './register.js'
export { version } from './version.js'
