// A wait that ends at a time, on a notification, or on abort, whichever comes first; a notification is never lost.

/** Longest single timer: a far deadline is simply waited for in steps. */
const MAX_TIMER_MS = 60_000

export class Wakeup {
  private notified = false
  private wake: (() => void) | undefined

  /** Ends the current wait, or the next one at once if none is in progress. */
  notify(): void {
    this.notified = true
    this.wake?.()
  }

  /** Waits until `untilMs` (Date.now() time; undefined: no deadline), a notify(), or the signal's abort. */
  async wait(untilMs: number | undefined, signal: AbortSignal): Promise<void> {
    if (!this.notified && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const delay = untilMs === undefined ? MAX_TIMER_MS : Math.min(MAX_TIMER_MS, Math.max(0, untilMs - Date.now()))
        const done = (): void => {
          clearTimeout(timer)
          signal.removeEventListener('abort', done)
          this.wake = undefined
          resolve()
        }
        const timer = setTimeout(done, delay)
        signal.addEventListener('abort', done, { once: true })
        this.wake = done
      })
    }
    this.notified = false
  }
}
