// Which presentation contexts to propose for a batch of files, and which accepted one each file travels in.
import type { SendItem } from '../input.js'
import { PC_ACCEPTED, type DimseAssociation } from './facade.js'

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2'
/** Every SCP must accept Implicit VR Little Endian (PS3.5 10.1); Explicit is the usual better choice. */
const UNCOMPRESSED = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] as const

export interface ProposedContext {
  readonly abstractSyntaxUid: string
  readonly transferSyntaxUids: readonly string[]
}

/**
 * One context per (SOP class, the files' own transfer syntax), so the PACS can accept each one
 * that it supports and the file goes out as it is on disk; plus one per SOP class with the
 * uncompressed syntaxes not already proposed, as the fallback the PACS must support (PS3.5 10.1).
 */
export function proposeContexts(items: readonly SendItem[]): ProposedContext[] {
  const syntaxesByClass = new Map<string, Set<string>>()
  for (const item of items) {
    let syntaxes = syntaxesByClass.get(item.sopClassUid)
    if (syntaxes === undefined) syntaxesByClass.set(item.sopClassUid, (syntaxes = new Set()))
    syntaxes.add(item.transferSyntaxUid)
  }
  const contexts: ProposedContext[] = []
  for (const [abstractSyntaxUid, syntaxes] of syntaxesByClass) {
    for (const syntax of syntaxes) contexts.push({ abstractSyntaxUid, transferSyntaxUids: [syntax] })
    const fallback = UNCOMPRESSED.filter((syntax) => !syntaxes.has(syntax))
    if (fallback.length > 0) contexts.push({ abstractSyntaxUid, transferSyntaxUids: fallback })
  }
  return contexts
}

/** An association carries at most 128 presentation contexts (odd ids 1-255, PS3.8 9.3.2.2); one is Verification's. */
const MAX_CONTEXTS = 127

/** Splits items so that each group's contexts fit one association (only a very mixed batch needs more than one). */
export function splitForContexts(items: readonly SendItem[]): SendItem[][] {
  const byClass = new Map<string, SendItem[]>()
  for (const item of items) {
    const group = byClass.get(item.sopClassUid)
    if (group === undefined) byClass.set(item.sopClassUid, [item])
    else group.push(item)
  }
  const groups: SendItem[][] = []
  let current: SendItem[] = []
  let used = 0
  for (const classItems of byClass.values()) {
    const needed = proposeContexts(classItems).length
    if (used + needed > MAX_CONTEXTS && current.length > 0) {
      groups.push(current)
      current = []
      used = 0
    }
    current.push(...classItems)
    used += needed
  }
  if (current.length > 0) groups.push(current)
  return groups
}

/** The accepted context a file goes out in: `raw` when it is the file's own transfer syntax. */
export interface ContextChoice {
  readonly presentationContextId: number
  readonly transferSyntaxUid: string
  readonly raw: boolean
}

/** Picks the file's own syntax when accepted, else an accepted uncompressed one (Explicit first), else any accepted one. */
export function chooseContext(association: DimseAssociation, item: SendItem): ContextChoice | undefined {
  const accepted: ContextChoice[] = []
  for (const { context } of association.getPresentationContexts()) {
    if (context.getResult() !== PC_ACCEPTED || context.getAbstractSyntaxUid() !== item.sopClassUid) continue
    const syntax = context.getAcceptedTransferSyntaxUid()?.replace(/\0+$/, '')
    if (syntax === undefined) continue
    accepted.push({ presentationContextId: context.getPresentationContextId(), transferSyntaxUid: syntax, raw: syntax === item.transferSyntaxUid })
  }
  const rank = (choice: ContextChoice): number =>
    choice.raw ? 0 : choice.transferSyntaxUid === EXPLICIT_VR_LITTLE_ENDIAN ? 1 : choice.transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN ? 2 : 3
  return accepted.sort((a, b) => rank(a) - rank(b))[0]
}
