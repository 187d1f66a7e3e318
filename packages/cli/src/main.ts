// The `pacsflow` entry: dispatches to subcommands, prints help, turns errors into exit codes.
import { parseArgs } from 'node:util'
import { isPacsflowError } from '@pacsflow/core'
import { UsageError, type CliIo, type Command } from './command.js'
import { dicom2niftiCommand } from './commands/dicom2nifti.js'
import { jobsCommand } from './commands/jobs.js'
import { makeExamCommand } from './commands/make-exam.js'
import { nifti2dicomCommand } from './commands/nifti2dicom.js'
import { qsmCommand } from './commands/qsm.js'
import { receiveCommand } from './commands/receive.js'
import { scoreQsmCommand } from './commands/score-qsm.js'
import { sendCommand } from './commands/send.js'
import { watchCommand } from './commands/watch.js'
import { version } from './version.js'

/** Every subcommand, in the order `pacsflow --help` lists them. Later packages add theirs here. */
export const commands: readonly Command[] = [
  dicom2niftiCommand,
  jobsCommand,
  makeExamCommand,
  nifti2dicomCommand,
  qsmCommand,
  receiveCommand,
  scoreQsmCommand,
  sendCommand,
  watchCommand,
]

const helpOption = { help: { type: 'boolean', short: 'h' } } as const

export function mainHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length))
  return [
    'pacsflow - imaging pipelines for hospitals: DICOM in, QSM, DICOM out to PACS.',
    '',
    'Usage: pacsflow <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: pacsflow <command> --help)',
    '  -v, --version  print the version',
    '',
  ].join('\n')
}

function commandHelp(command: Command): string {
  return `Usage: ${command.usage}\n\n${command.help.trimEnd()}\n\n  -h, --help  show this help\n`
}

/** Runs the CLI with `argv` (without `node` and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout(mainHelp())
    return first === undefined ? 2 : 0
  }
  if (first === '-v' || first === '--version') {
    io.stdout(`${version}\n`)
    return 0
  }
  const command = commands.find((candidate) => candidate.name === first)
  if (command === undefined) {
    io.stderr(`pacsflow: unknown command '${first}'\n\n${mainHelp()}`)
    return 2
  }
  try {
    const args = parseArgs({
      args: [...rest],
      options: { ...command.options, ...helpOption },
      allowPositionals: true,
      strict: true,
    })
    if (args.values.help === true) {
      io.stdout(commandHelp(command))
      return 0
    }
    return await command.run(args, io)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.stderr(
        `pacsflow ${command.name}: ${(error as Error).message}\nUsage: ${command.usage}\nRun 'pacsflow ${command.name} --help' for more.\n`,
      )
      return 2
    }
    if (isPacsflowError(error)) {
      io.stderr(`pacsflow ${command.name}: error ${error.code}: ${error.message}\n`)
      return 1
    }
    io.stderr(`pacsflow ${command.name}: ${(error as Error).stack ?? String(error)}\n`)
    return 1
  }
}
