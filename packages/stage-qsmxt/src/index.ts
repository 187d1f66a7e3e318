// @pacsflow/stage-qsmxt
export { version } from './version.js'
