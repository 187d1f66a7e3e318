// Resumable steps: each writes into its own folder and is skipped on resume when its completion marker and outputs are intact.
import { existsSync, mkdirSync, openSync, closeSync, fsyncSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { writeFileAtomic, type Logger } from '@pacsflow/core'
import { stopLeftover } from './run-tool.js'

/** The marker's name inside a step's folder; written atomically after every output is on disk. */
export const MARKER = '.complete.json'
/** A running tool's process record inside a step's folder (see `stopLeftover`). */
export const PID_FILE = '.running.json'

/** What a finished step left: its output files (absolute paths) and its JSON data. */
export interface StepOutcome<T> {
  readonly outputs: Readonly<Record<string, string>>
  readonly data: T
  /** The step's wall time when it ran, ms (also when this call only found it done). */
  readonly durationMs: number
  /** True when the step was found complete and not run. */
  readonly skipped: boolean
}

interface Marker {
  readonly step: string
  readonly durationMs: number
  readonly outputs: Readonly<Record<string, { readonly path: string; readonly size: number }>>
  readonly data: unknown
}

export interface StepHost {
  readonly workDir: string
  readonly log: Logger
  readonly killGraceMs: number
}

/**
 * Runs `body` in `<workDir>/<name>/` unless a previous run of the step completed: then its recorded
 * outputs (which must all exist with their recorded sizes) and data are returned. A step that did not
 * complete is started afresh: a tool a crashed run left running in it is stopped, and the folder emptied.
 * `body` returns its output files (inside the step folder) and JSON data; they are fsynced before the marker.
 */
export async function runStep<T>(
  host: StepHost,
  name: string,
  body: (dir: string) => Promise<{ readonly outputs: Readonly<Record<string, string>>; readonly data: T }>,
): Promise<StepOutcome<T>> {
  const dir = join(host.workDir, name)
  const done = readMarker<T>(host.workDir, dir, name)
  if (done !== undefined) {
    host.log.info({ step: name }, `qsmxt: step ${name} already complete, skipped`)
    return { ...done, skipped: true }
  }
  await stopLeftover(join(dir, PID_FILE), host.killGraceMs, host.log)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const started = Date.now()
  const { outputs, data } = await body(dir)
  const durationMs = Date.now() - started
  const recorded: Record<string, { path: string; size: number }> = {}
  for (const [key, path] of Object.entries(outputs)) {
    fsyncFile(path)
    recorded[key] = { path: relative(host.workDir, path), size: statSync(path).size }
  }
  const marker: Marker = { step: name, durationMs, outputs: recorded, data }
  await writeFileAtomic(join(dir, MARKER), `${JSON.stringify(marker, null, 2)}\n`)
  host.log.info({ step: name, durationMs }, `qsmxt: step ${name} done`)
  return { outputs, data, durationMs, skipped: false }
}

/** The marker of a complete step, or undefined when it is missing, unreadable or an output changed. */
function readMarker<T>(workDir: string, dir: string, name: string): Omit<StepOutcome<T>, 'skipped'> | undefined {
  const path = join(dir, MARKER)
  if (!existsSync(path)) return undefined
  let marker: Marker
  try {
    marker = JSON.parse(readFileSync(path, 'utf8')) as Marker
  } catch {
    return undefined
  }
  if (marker.step !== name || typeof marker.outputs !== 'object' || marker.outputs === null) return undefined
  const outputs: Record<string, string> = {}
  for (const [key, entry] of Object.entries(marker.outputs)) {
    const full = resolve(workDir, entry.path)
    try {
      if (statSync(full).size !== entry.size) return undefined
    } catch {
      return undefined
    }
    outputs[key] = full
  }
  return { outputs, data: marker.data as T, durationMs: marker.durationMs }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
