// Finds executables on PATH without running them, so a stage can refuse at creation to start work it cannot finish.
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join, resolve } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import type { ResolvedTool } from './options.js'

/** The full path of `command` (a name looked up on PATH, or a path), or undefined when it is not an executable file. */
export function findExecutable(command: string, path = process.env.PATH ?? ''): string | undefined {
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(command)
    return isExecutableFile(full) ? full : undefined
  }
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, command)
    if (isExecutableFile(candidate)) return candidate
  }
  return undefined
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** True for Apptainer image references that are not local files (`docker://`, `library://`, `oras://`...). */
export function isImageUri(image: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(image)
}

/** What is missing for `tool` to run here, or undefined when everything it needs is in place (no process is started). */
export function missingFor(tool: ResolvedTool, path = process.env.PATH ?? ''): string | undefined {
  if (tool.runtime === 'local') {
    return findExecutable(tool.command, path) === undefined ? `'${tool.command}' is not on PATH` : undefined
  }
  if (findExecutable(tool.runtime, path) === undefined) return `'${tool.runtime}' (to run ${tool.command} in ${tool.image}) is not on PATH`
  if (tool.runtime === 'apptainer' && !isImageUri(tool.image!)) {
    try {
      if (!statSync(tool.image!).isFile()) return `the Apptainer image ${tool.image} is not a file`
    } catch {
      return `the Apptainer image ${tool.image} does not exist`
    }
  }
  return undefined
}

const INSTALL_HINTS: Readonly<Record<ResolvedTool['name'], string>> = {
  dcm2niix: 'apt-get install dcm2niix (or converter: "native")',
  hdBet: 'pip install hd-bet (or an image with it)',
  qsmxt: 'the QSMxT release binary (v9) or its container (v8)',
  antsRegistration: 'ANTs (github.com/ANTsX/ANTs releases), or registration: "elastix"',
  antsApplyTransforms: 'ANTs, or resampler: "native"',
  elastix: 'apt-get install elastix, or registration: "ants"',
}

/** Throws `QSMXT_TOOL_MISSING` naming every tool in `tools` that cannot run here. */
export function assertInstalled(tools: readonly ResolvedTool[], path = process.env.PATH ?? ''): void {
  const missing = tools.flatMap((tool) => {
    const reason = missingFor(tool, path)
    return reason === undefined ? [] : [{ tool: tool.name, runtime: tool.runtime, reason, install: INSTALL_HINTS[tool.name] }]
  })
  if (missing.length === 0) return
  throw new PacsflowError('QSMXT_TOOL_MISSING', `qsmxt: ${missing.map((m) => `${m.tool}: ${m.reason}`).join('; ')}`, { details: { missing } })
}
