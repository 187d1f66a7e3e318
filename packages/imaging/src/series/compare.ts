// Locale-independent string order for sorting: the same on every machine, and without the ICU
// collator that String.prototype.localeCompare builds on first use (~10 ms at start-up).

/** Orders by UTF-16 code units, as `<` does: -1, 0 or 1. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
