// Test helpers: a bin folder of stand-in tools (wrappers around stand-in.ts) and what they recorded.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const STAND_IN_SCRIPT = fileURLToPath(new URL('./stand-in.ts', import.meta.url))
export const STAND_IN_TOOLS = ['qsmxt', 'hd-bet', 'antsRegistration', 'antsApplyTransforms', 'elastix', 'apptainer', 'docker'] as const
export type StandInTool = (typeof STAND_IN_TOOLS)[number]

/** One recorded invocation of a stand-in. */
export interface Invocation {
  readonly kind: 'start'
  readonly tool: string
  readonly argv: readonly string[]
  readonly cwd: string
  /** CUDA_VISIBLE_DEVICES as the tool saw it (null when unset). */
  readonly cuda: string | null
  readonly pid: number
}

/** What a stand-in noted while running (mask it found, device, image, rejection). */
export interface Note {
  readonly kind: 'note'
  readonly tool: string
  readonly pid: number
  readonly [key: string]: unknown
}

export interface StandIns {
  readonly binDir: string
  readonly logFile: string
  /** Invocations in order, optionally of one tool; version and help probes left out unless `probes`. */
  invocations(tool?: StandInTool, probes?: boolean): Invocation[]
  notes(tool?: StandInTool): Note[]
}

const PROBE_ARGS = new Set(['--version', '-V', '--help', '-h', 'version'])

/** Writes `<dir>/bin/<tool>` wrappers that run the stand-in with this Node, recording into `<dir>/stand-ins.jsonl`. */
export function installStandIns(dir: string, tools: readonly StandInTool[] = STAND_IN_TOOLS): StandIns {
  const binDir = join(dir, 'bin')
  mkdirSync(binDir, { recursive: true })
  // Node's compile cache keeps the type-stripped, compiled stand-in: ~90 ms a start instead of ~250.
  const cache = join(dir, 'node-compile-cache')
  for (const tool of tools) {
    const path = join(binDir, tool)
    writeFileSync(path, `#!/bin/sh\nNODE_COMPILE_CACHE='${cache}' exec '${process.execPath}' --no-warnings '${STAND_IN_SCRIPT}' '${tool}' "$@"\n`)
    chmodSync(path, 0o755)
  }
  const logFile = join(dir, 'stand-ins.jsonl')
  const lines = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Invocation | Note) : [])
  return {
    binDir,
    logFile,
    invocations: (tool, probes = false) =>
      lines().filter((entry): entry is Invocation => entry.kind === 'start' && (tool === undefined || entry.tool === tool) && (probes || !isProbe(entry))),
    notes: (tool) => lines().filter((entry): entry is Note => entry.kind === 'note' && (tool === undefined || entry.tool === tool)),
  }
}

function isProbe(entry: Invocation): boolean {
  const inner = entry.tool === 'apptainer' || entry.tool === 'docker' ? entry.argv.slice(-1) : entry.argv
  return inner.length > 0 && inner.every((arg) => PROBE_ARGS.has(arg))
}

/**
 * Sets environment variables for the stand-ins (and PATH with the bin folder first) until the returned
 * function restores them; tools spawned meanwhile inherit them.
 */
export function withEnv(vars: Readonly<Record<string, string | undefined>>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]))
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}
