// A fixed set of tags, as one bitmap per group: a membership test is three typed-array reads, with no hashing and no boxed numbers.

const WORDS_PER_GROUP = 0x1_0000 / 32

/** Private tags by pattern (PS3.5 7.8.1): the creators (gggg,0010-00FF) and (gggg,xxEE) for each EE listed, in every block xx. */
export interface PrivateTags {
  readonly group: number
  readonly elements: readonly number[]
}

/** The tags a header parse keeps; every other element is walked past without being recorded. */
export class TagFilter {
  /** Slot + 1 of each group's bitmap in `bits`, 0 when no tag of the group is in the set. */
  private readonly slots = new Uint16Array(0x1_0000)
  private readonly bits: Uint32Array

  constructor(tags: readonly number[], privateTags: readonly PrivateTags[] = []) {
    let groups = 0
    const slotOf = (group: number): number => this.slots[group] || (this.slots[group] = ++groups)
    for (const tag of tags) slotOf(tag >>> 16)
    for (const { group } of privateTags) slotOf(group)
    this.bits = new Uint32Array(groups * WORDS_PER_GROUP)
    for (const tag of tags) this.add(tag >>> 16, tag & 0xffff)
    for (const { group, elements } of privateTags) {
      for (let block = 0x10; block <= 0xff; block++) {
        this.add(group, block)
        for (const element of elements) this.add(group, (block << 8) | element)
      }
    }
  }

  private add(group: number, element: number): void {
    const word = ((this.slots[group] as number) - 1) * WORDS_PER_GROUP + (element >>> 5)
    this.bits[word] = (this.bits[word] as number) | (1 << (element & 31))
  }

  /** True when (group,element) is in the set. */
  has(group: number, element: number): boolean {
    const slot = this.slots[group] as number
    if (slot === 0) return false
    return ((this.bits[(slot - 1) * WORDS_PER_GROUP + (element >>> 5)] as number) & (1 << (element & 31))) !== 0
  }

  /** True when the 32-bit tag `0xGGGGEEEE` is in the set. */
  hasTag(tag: number): boolean {
    const slot = this.slots[tag >>> 16] as number
    if (slot === 0) return false
    return ((this.bits[(slot - 1) * WORDS_PER_GROUP + ((tag & 0xffff) >>> 5)] as number) & (1 << (tag & 31))) !== 0
  }
}
