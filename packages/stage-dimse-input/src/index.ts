// @pacsflow/stage-dimse-input
export { version } from './version.js'
