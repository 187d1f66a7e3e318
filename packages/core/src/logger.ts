// A structured logger contract shaped like pino's, so a pino instance plugs in as it is.

/** Logs an object with an optional message, or a message alone (pino's calling convention). */
export interface LogFn {
  (obj: object, msg?: string): void
  (msg: string): void
}

/**
 * The logger every stage and the runner write to. Stages never call `console`: the site
 * decides where logs go. A pino logger satisfies this interface.
 */
export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  /** A logger that adds `bindings` to every record (pino's `child`). */
  child(bindings: Record<string, unknown>): Logger
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

const levelValues: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
}

const noop: LogFn = () => {}

/** A logger that discards everything: the default wherever no logger is configured. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
}

export interface JsonLoggerOptions {
  /** Lowest level written (default `'info'`). */
  readonly level?: LogLevel
  /** Where each JSON line goes (default: standard error). */
  readonly write?: (line: string) => void
  /** Fields added to every record. */
  readonly bindings?: Record<string, unknown>
}

/**
 * A minimal JSON-lines logger (pino's record shape: `level`, `time`, `msg`, bindings, fields)
 * for scripts and the CLI. Services should plug in pino itself.
 */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = levelValues[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const bindings = options.bindings ?? {}

  const at = (level: LogLevel): LogFn => {
    if (levelValues[level] < threshold) return noop
    return (objOrMsg: object | string, msg?: string) => {
      const fields = typeof objOrMsg === 'string' ? {} : errorAware(objOrMsg)
      const message = typeof objOrMsg === 'string' ? objOrMsg : msg
      const record = {
        level: levelValues[level],
        time: Date.now(),
        ...bindings,
        ...fields,
        ...(message === undefined ? {} : { msg: message }),
      }
      write(`${safeStringify(record)}\n`)
    }
  }

  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => jsonLogger({ ...options, bindings: { ...bindings, ...more } }),
  }
}

// Errors have no enumerable fields; write them the way pino's `err` serializer does.
function errorAware(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      value instanceof Error
        ? { ...value, type: value.name, message: value.message, stack: value.stack }
        : value
  }
  return out
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  } catch {
    return JSON.stringify({ msg: 'unserialisable log record' })
  }
}
