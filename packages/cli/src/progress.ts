// Draws the runner's events as progress: a bar per stage on a terminal, plain lines elsewhere (logs, CI).
import type { RunnerEvent } from '@pacsflow/core'

export interface ProgressOptions {
  readonly write: (text: string) => void
  /** Bars redrawn in place (a terminal), or one line per change worth reading (a log file, a pipe). */
  readonly isTty: boolean
  /** Columns of the terminal (default 80). */
  readonly columns?: number
  /** Milliseconds between redraws of the bars (default 100). */
  readonly redrawMs?: number
  /** Clock, for tests. */
  readonly now?: () => number
}

interface StageLine {
  readonly jobId: string
  readonly stage: string
  fraction: number
  note: string
  state: 'running' | 'done' | 'failed' | 'retry'
  readonly startedAt: number
  durationMs?: number
  /** The last quarter printed, for plain lines. */
  printedQuarter: number
}

export interface ProgressReporter {
  /** Feed it every runner event: `runner.on('*', reporter.handle)`. */
  readonly handle: (event: RunnerEvent) => void
  /** Draws the final state (bars) once more; call when the run ends. */
  close(): void
}

const BAR = 24

/**
 * A reporter of stage progress. On a terminal, each job's stages are bars redrawn in place at
 * most every `redrawMs`; elsewhere each stage prints when it starts, at each quarter of its
 * progress, and when it ends, so a log file shows the run without control characters.
 */
export function progressReporter(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now
  const lines: StageLine[] = []
  let drawn = 0
  let lastDraw = 0
  const columns = Math.max(40, options.columns ?? 80)

  const draw = (force: boolean): void => {
    if (!options.isTty) return
    const time = now()
    if (!force && time - lastDraw < (options.redrawMs ?? 100)) return
    lastDraw = time
    // Move up over what was drawn last time and draw every line again, clearing each.
    const up = drawn > 0 ? `\x1b[${drawn}F` : ''
    const text = lines.map((line) => `\x1b[2K${barLine(line, time, columns)}\n`).join('')
    options.write(up + text)
    drawn = lines.length
  }

  const plain = (text: string): void => {
    if (!options.isTty) options.write(`${text}\n`)
  }

  const find = (jobId: string, stage: string): StageLine | undefined => lines.findLast((line) => line.jobId === jobId && line.stage === stage)

  const handle = (event: RunnerEvent): void => {
    switch (event.type) {
      case 'stage:start': {
        lines.push({ jobId: event.jobId, stage: event.stage, fraction: 0, note: '', state: 'running', startedAt: event.at, printedQuarter: 0 })
        plain(`${short(event.jobId)} ${event.stage}: started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`)
        draw(true)
        return
      }
      case 'stage:progress': {
        const line = find(event.jobId, event.stage)
        if (line === undefined) return
        line.fraction = Math.max(0, Math.min(1, event.fraction))
        line.note = event.note ?? line.note
        const quarter = Math.floor(line.fraction * 4)
        if (quarter > line.printedQuarter && quarter < 4) {
          line.printedQuarter = quarter
          plain(`${short(event.jobId)} ${event.stage}: ${Math.round(line.fraction * 100)}%${line.note === '' ? '' : ` ${line.note}`}`)
        }
        draw(false)
        return
      }
      case 'stage:end': {
        const line = find(event.jobId, event.stage)
        if (line === undefined) return
        line.durationMs = event.durationMs
        line.state = event.outcome === 'ok' ? 'done' : event.outcome === 'retry' ? 'retry' : 'failed'
        if (line.state === 'done') line.fraction = 1
        const what = event.outcome === 'ok' ? 'done' : event.outcome === 'retry' ? `failed, retry in ${seconds(event.retryInMs ?? 0)}` : event.outcome
        const why = event.error === undefined ? '' : ` (${event.error.code}: ${event.error.message})`
        plain(`${short(event.jobId)} ${event.stage}: ${what} in ${seconds(event.durationMs)}${why}`)
        draw(true)
        return
      }
      case 'job:failed':
        plain(`${short(event.jobId)} failed in ${event.stage}: ${event.error.code}: ${event.error.message}`)
        return
      default:
        return
    }
  }

  return { handle, close: () => draw(true) }
}

function barLine(line: StageLine, time: number, columns: number): string {
  const filled = Math.round(line.fraction * BAR)
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}`
  const elapsed = seconds(line.durationMs ?? time - line.startedAt)
  const mark = line.state === 'done' ? 'done' : line.state === 'failed' ? 'FAILED' : `${String(Math.round(line.fraction * 100)).padStart(3)}%`
  const head = `${line.stage.padEnd(16)} [${bar}] ${mark.padStart(6)} ${elapsed.padStart(7)}`
  const note = line.state === 'running' && line.note !== '' ? `  ${line.note}` : ''
  return `${head}${note}`.slice(0, columns - 1)
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`
}

/** Job ids are long hashes; eight characters tell jobs apart in a log. */
function short(jobId: string): string {
  return `[${jobId.slice(0, 8)}]`
}
