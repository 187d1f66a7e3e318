// Cooperative yielding: long computations give the event loop a turn so an abort (or any I/O) is seen.

/** Resolves on the next turn of the event loop. */
export function pause(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Yields, then throws the signal's reason when it has aborted. */
export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await pause()
  signal?.throwIfAborted()
}
