// Tells each tool's version (or CLI generation) from what it prints, so the stage drives the CLI that is installed.
import { PacsflowError, type Logger } from '@pacsflow/core'
import { VERSION_PROBES } from './command-lines.js'
import type { ResolvedTool, ToolName } from './options.js'
import { runTool, type ToolEnvironment } from './run-tool.js'

/** What a probe found out about one tool. */
export interface ToolVersion {
  readonly tool: ToolName
  readonly runtime: ResolvedTool['runtime']
  readonly command: string
  readonly image?: string
  /** As printed, e.g. `8.3.4`, `v1.0.20220720`, `2.5.0`; `'1'`/`'2'` for HD-BET (it prints none). */
  readonly version: string
  /** The CLI generation the stage drives: QSMxT 8 or 9, HD-BET 1 or 2. */
  readonly cli?: number
}

const SEMVER = /(\d+)\.(\d+)\.(\d+)/

/**
 * QSMxT's version. v8 logs `[INFO]: QSMxT v8.3.4` (qsmxt/cli/main.py prints `QSMxT v{version}`);
 * v9 is a clap binary whose `--version` prints `qsmxt 9.13.0` and, on further lines, qsm-core and
 * the deep-learning status (src/cli.rs, `long_version`).
 */
export function parseQsmxtVersion(output: string): { version: string; cli: 8 | 9; customMasks: boolean } | undefined {
  const match = /qsmxt\s+v?(\d+)\.(\d+)\.(\d+)/i.exec(output) ?? SEMVER.exec(output)
  if (match === null) return undefined
  const [major, minor] = [Number(match[1]), Number(match[2])]
  const version = `${match[1]}.${match[2]}.${match[3]}`
  if (major === 8) return { version, cli: 8, customMasks: true }
  if (major >= 9) return { version, cli: 9, customMasks: major > 9 || minor >= 6 }
  return { version, cli: 8, customMasks: false }
}

/**
 * HD-BET's CLI generation from `hd-bet --help` (argparse). v2 (HD_BET/entry_point.py) has
 * `--disable_tta` and `--save_bet_mask`; v1 (HD_BET/hd-bet) has `-mode` and `-tta`.
 */
export function parseHdBetCli(output: string): 1 | 2 | undefined {
  if (/--disable_tta\b/.test(output) && /--save_bet_mask\b/.test(output)) return 2
  if (/(^|[\s[])-mode\b/m.test(output) && /(^|[\s[])-tta\b/m.test(output)) return 1
  return undefined
}

/** dcm2niix prints `v1.0.20220720` (and exits 3 on `--version`); ANTs `ANTs Version: 2.5.0...`; elastix `elastix version: 5.0.1`. */
export function parseGenericVersion(output: string): string | undefined {
  const dated = /v\d+\.\d+\.\d{8}\w*/.exec(output)
  if (dated !== null) return dated[0]
  const match = /version:?\s*v?(\d+(?:\.\d+)+[\w.+-]*)/i.exec(output) ?? SEMVER.exec(output)
  return match === null ? undefined : (match[1] ?? match[0])
}

/** Runs a tool's version probe and reads its version; `QSMXT_TOOL_VERSION` when the output tells none. */
export async function probeTool(env: ToolEnvironment, tool: ResolvedTool, logFile?: string): Promise<ToolVersion & { readonly customMasks?: boolean }> {
  const result = await runTool(
    env,
    { step: 'check', spec: { tool, args: [...VERSION_PROBES[tool.name]], bare: true }, captureAll: true, ...(logFile === undefined ? {} : { logFile }) },
    true,
  )
  const base = { tool: tool.name, runtime: tool.runtime, command: tool.command, ...(tool.image === undefined ? {} : { image: tool.image }) }
  const unknown = (what: string): PacsflowError =>
    new PacsflowError('QSMXT_TOOL_VERSION', `${tool.name}: cannot tell ${what} from '${[tool.command, ...VERSION_PROBES[tool.name]].join(' ')}' (exit ${result.exitCode})`, {
      details: { ...base, exitCode: result.exitCode, output: result.output.slice(-4000) },
    })
  if (tool.name === 'qsmxt') {
    const parsed = parseQsmxtVersion(result.output)
    if (parsed === undefined) throw unknown('the QSMxT version')
    if (Number(parsed.version.split('.')[0]) < 8) {
      throw new PacsflowError('QSMXT_TOOL_VERSION', `qsmxt ${parsed.version} is older than v8, whose CLI this stage drives`, { details: { ...base, version: parsed.version } })
    }
    return { ...base, version: parsed.version, cli: parsed.cli, customMasks: parsed.customMasks }
  }
  if (tool.name === 'hdBet') {
    const cli = parseHdBetCli(result.output)
    if (cli === undefined) throw unknown('the HD-BET CLI (v1 or v2)')
    return { ...base, version: String(cli), cli }
  }
  const version = parseGenericVersion(result.output)
  if (version === undefined) throw unknown('the version')
  return { ...base, version }
}

/** Probes every tool, reporting all failures together; logs what was found. */
export async function probeTools(env: ToolEnvironment, tools: readonly ResolvedTool[], log: Logger): Promise<(ToolVersion & { readonly customMasks?: boolean })[]> {
  const settled = await Promise.allSettled(tools.map((tool) => probeTool(env, tool)))
  const failures = settled.flatMap((entry) => (entry.status === 'rejected' ? [entry.reason as unknown] : []))
  if (failures.length > 0) {
    const first = failures[0]
    if (failures.length === 1 || !(first instanceof PacsflowError)) throw first
    throw new PacsflowError(first.code, failures.map((error) => (error instanceof Error ? error.message : String(error))).join('; '), {
      cause: first,
      details: { failures: failures.map((error) => (error instanceof PacsflowError ? { code: error.code, message: error.message, details: error.details } : String(error))) },
    })
  }
  const versions = settled.map((entry) => (entry as PromiseFulfilledResult<ToolVersion & { readonly customMasks?: boolean }>).value)
  log.info({ tools: versions.map((v) => ({ tool: v.tool, version: v.version, runtime: v.runtime })) }, 'qsmxt: tools found')
  return versions
}
