// @pacsflow/stage-folder-input
export { version } from './version.js'
