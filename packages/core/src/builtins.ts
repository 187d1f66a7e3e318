// Node built-ins that are slow to load, loaded at first use: node:crypto takes ~6 ms and
// node:zlib ~2.5 ms at start-up (measured, Node 24), which a short command such as
// `pacsflow dicom2nifti` (~150 ms in all) pays for nothing when it never hashes or compresses.

/** `node:crypto`, loaded on the first call (then cached by Node). */
export const nodeCrypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto')

/** `node:zlib`, loaded on the first call (then cached by Node). */
export const nodeZlib = (): typeof import('node:zlib') => process.getBuiltinModule('node:zlib')
