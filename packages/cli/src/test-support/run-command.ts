// Runs one command object in-process with its output captured, as the CLI's tests need.
import { parseArgs } from 'node:util'
import type { Command } from '../command.js'

/** Parses `argv` with the command's own options (strict, as `runCli` does) and runs it in `cwd`. */
export async function runCommand(command: Command, cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const args = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true })
  const code = await command.run(args, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd, isTty: false })
  return { code, stdout: out.join(''), stderr: err.join('') }
}
