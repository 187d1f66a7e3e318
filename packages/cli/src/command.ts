// The shape of a `pacsflow` subcommand: parsed options in, an exit code out, all output through `io`.
import type { ParseArgsConfig } from 'node:util'

/** Where a command reads and writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** Whether stdout is a terminal (progress bars there, plain lines elsewhere). */
  readonly isTty: boolean
}

export type CommandOptions = NonNullable<ParseArgsConfig['options']>

/** Values of parsed options, typed loosely: each command checks its own. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>
  readonly positionals: readonly string[]
}

export interface Command {
  /** One word, as typed after `pacsflow`. */
  readonly name: string
  /** One line for `pacsflow --help`. */
  readonly summary: string
  /** The full `--help` text after the usage line. */
  readonly help: string
  /** The usage line, e.g. `pacsflow jobs list --store <dir>`. */
  readonly usage: string
  readonly options: CommandOptions
  /**
   * Returns the process exit code. Throw `UsageError` for bad arguments. Import the packages the
   * command needs here (`await import(...)`), not at the top of its module: `main.ts` loads every
   * command's module, and each package loaded up front delays every command (dcmjs-dimse alone
   * costs ~100 ms at start-up).
   */
  run(args: ParsedArgs, io: CliIo): Promise<number>
}

/** Identity helper for writing a command with checked fields. */
export function defineCommand(command: Command): Command {
  return command
}

/** Bad command-line arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A string flag's value (undefined when absent). */
export function textFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name]
  return typeof value === 'string' ? value : undefined
}

/** An integer flag in [min, max] (undefined when absent); anything else is a UsageError naming the flag. */
export function integerFlag(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const value = textFlag(args, name)
  if (value === undefined) return undefined
  const number = value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`--${name} must be an integer in ${min}-${max}`)
  return number
}
