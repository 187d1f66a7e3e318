// @pacsflow/stage-folder-output: writes DICOM series into a folder with atomic, no-clobber writes.
export type { FolderOutputErrorCode } from './errors.js'
export { folderOutput, writeToFolder, type WriteContext } from './folder-output.js'
export { folderName } from './layout.js'
export type { FolderLayout, FolderOutputInput, FolderOutputOptions, FolderOutputReceipt, OutputFile, OutputFileStatus } from './types.js'
