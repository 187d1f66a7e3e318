// What a C-STORE response status means: success, warning, worth retrying, or a refusal for good.

/**
 * - `success`: 0x0000.
 * - `warning`: stored, with a remark: 0xB000 coercion of data elements, 0xB006 elements
 *   discarded, 0xB007 data set does not match SOP class (PS3.4 Annex B.2.3, Table B.2-1), and
 *   the general warnings 0x0001, 0x0107, 0x0116 (PS3.7 Annex C).
 * - `transient`: not stored now, may be later: 0xA7xx Refused: Out of Resources (PS3.4 B.2.3),
 *   0x0213 Resource Limitation (PS3.7 C.5.13).
 * - `failure`: will not be stored as it is: 0xA9xx Data Set does not match SOP Class and 0xCxxx
 *   Cannot Understand (PS3.4 B.2.3), 0x0122 SOP Class not Supported, 0x0124 Not Authorized,
 *   0x0211 Unrecognized Operation, 0x0212 Mistyped Argument, and every other 01xx/02xx/Axxx/Cxxx
 *   code (PS3.7 Annex C); unknown codes count as failures too.
 */
export type StatusClass = 'success' | 'warning' | 'transient' | 'failure'

export function classifyStoreStatus(status: number): StatusClass {
  if (status === 0x0000) return 'success'
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status & 0xf000) === 0xb000) return 'warning'
  if ((status & 0xff00) === 0xa700 || status === 0x0213) return 'transient'
  return 'failure'
}

const named: Readonly<Record<number, string>> = {
  0x0000: 'Success',
  0x0001: 'Warning: requested optional attributes are not supported',
  0x0107: 'Warning: attribute list error',
  0x0116: 'Warning: attribute value out of range',
  0xb000: 'Warning: coercion of data elements',
  0xb006: 'Warning: elements discarded',
  0xb007: 'Warning: data set does not match SOP class',
  0x0110: 'Failure: processing failure',
  0x0117: 'Failure: invalid SOP instance',
  0x0122: 'Refused: SOP class not supported',
  0x0124: 'Refused: not authorized',
  0x0210: 'Failure: duplicate invocation',
  0x0211: 'Failure: unrecognized operation',
  0x0212: 'Failure: mistyped argument',
  0x0213: 'Failure: resource limitation',
}

/** `0xA700 Refused: out of resources` and the like, for messages and logs. */
export function describeStoreStatus(status: number): string {
  const hex = `0x${status.toString(16).toUpperCase().padStart(4, '0')}`
  const name =
    named[status] ??
    ((status & 0xff00) === 0xa700
      ? 'Refused: out of resources'
      : (status & 0xff00) === 0xa900
        ? 'Error: data set does not match SOP class'
        : (status & 0xf000) === 0xc000
          ? 'Error: cannot understand'
          : (status & 0xf000) === 0xb000
            ? 'Warning'
            : 'Failure (unknown status)')
  return `${hex} ${name}`
}
