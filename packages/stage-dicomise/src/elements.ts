// The few elements that change per slice, encoded Explicit VR Little Endian on @pacsflow/imaging's
// element primitives: dcmjs encodes everything else once per series (see template.ts).
import { concatBytes, encodeElement, formatDs, formatIs, textValue } from '@pacsflow/imaging'

export function uiElement(tag: number, uid: string): Uint8Array {
  return encodeElement(tag, 'UI', textValue('UI', [uid]))
}

export function dsElement(tag: number, values: readonly number[]): Uint8Array {
  return encodeElement(tag, 'DS', textValue('DS', values.map(formatDs)))
}

export function isElement(tag: number, value: number): Uint8Array {
  return encodeElement(tag, 'IS', textValue('IS', [formatIs(value)]))
}

/** US or SS (one 16-bit value), as PixelRepresentation dictates for Smallest/LargestImagePixelValue (PS3.3 C.7.6.3). */
export function int16Element(tag: number, vr: 'US' | 'SS', value: number): Uint8Array {
  const bytes = new Uint8Array(2)
  const view = new DataView(bytes.buffer)
  if (vr === 'US') view.setUint16(0, value, true)
  else view.setInt16(0, value, true)
  return encodeElement(tag, vr, bytes)
}

/** A sequence of explicit-length items, each the concatenation of its encoded elements in tag order (PS3.5 7.5). */
export function sqElement(tag: number, items: readonly (readonly Uint8Array[])[]): Uint8Array {
  const encoded = items.map((elements) => {
    const body = concatBytes(elements)
    const item = new Uint8Array(8 + body.length)
    const view = new DataView(item.buffer)
    view.setUint16(0, 0xfffe, true)
    view.setUint16(2, 0xe000, true)
    view.setUint32(4, body.length, true)
    item.set(body, 8)
    return item
  })
  return encodeElement(tag, 'SQ', concatBytes(encoded))
}
