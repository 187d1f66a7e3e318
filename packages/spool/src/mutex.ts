// A keyed async mutex: commits, hand-ons and settlements of one study run one at a time.

/** Runs critical sections per key in arrival order; different keys run concurrently. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>()

  /** Runs `work` once every earlier `work` for `key` has finished (successfully or not). */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => current)
    this.tails.set(key, tail)
    await previous
    try {
      return await work()
    } finally {
      release()
      // The last holder clears the key so the map does not grow with every study ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
