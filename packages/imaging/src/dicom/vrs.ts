// Explicit VRs by their two bytes (b0 << 8 | b1), so that the header walk never builds a string per element.

/** The two bytes of a VR written as text, e.g. 'SQ' → 0x5351. */
export function vrCode(vr: string): number {
  return (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)
}

/** What VR_KINDS says of two bytes: not a VR (not two capital letters). */
export const NOT_A_VR = 0
/** A VR with a 2-byte length (PS3.5 7.1.2). */
export const SHORT_VR = 1
/** A VR with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
export const LONG_VR = 2

/** NOT_A_VR, SHORT_VR or LONG_VR by the two bytes: one table read instead of a string and a set lookup. */
export const VR_KINDS = new Uint8Array(0x1_0000)
for (let first = 0x41; first <= 0x5a; first++) for (let second = 0x41; second <= 0x5a; second++) VR_KINDS[(first << 8) | second] = SHORT_VR
for (const vr of ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']) VR_KINDS[vrCode(vr)] = LONG_VR

export const SQ = vrCode('SQ')
export const UN = vrCode('UN')

/** A valid VR's two bytes (A-Z each) as 0..675. */
function vrIndex(vr: number): number {
  return ((vr >>> 8) - 0x41) * 26 + (vr & 0xff) - 0x41
}

// The VRs of PS3.5 Table 6.2-1, each as one (interned) string for every element that has it: readers
// compare VRs and look them up, which an interned string turns into a pointer comparison.
const VR_NAMES = new Array<string | undefined>(26 * 26).fill(undefined)
for (const vr of ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV']) VR_NAMES[vrIndex(vrCode(vr))] = vr

/** The VR of a valid VR code as text. */
export function vrName(vr: number): string {
  return VR_NAMES[vrIndex(vr)] ?? String.fromCharCode(vr >>> 8, vr & 0xff)
}
