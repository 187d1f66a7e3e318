// @pacsflow/stage-folder-input: watches a drop folder, spools the DICOM that arrives, yields each study once complete.
export type { FolderInputErrorCode } from './errors.js'
export { folderInput } from './folder-input.js'
export { isDicomdirName, isTemporaryName } from './drop-folder.js'
export type { FolderInputOptions } from './types.js'
export { version } from './version.js'
