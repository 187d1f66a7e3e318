// @pacsflow/stage-qsm-native
export { version } from './version.js'
