// @pacsflow/spool
export { version } from './version.js'
