// @pacsflow/cli: the `pacsflow` command line, also callable in-process (`runCli`).
export { commands, mainHelp, runCli } from './main.js'
export { defineCommand, UsageError, type CliIo, type Command, type CommandOptions, type ParsedArgs } from './command.js'
export { progressReporter, type ProgressOptions, type ProgressReporter } from './progress.js'
export { version } from './version.js'
