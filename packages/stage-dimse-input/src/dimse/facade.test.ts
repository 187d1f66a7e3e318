// The dcmjs-dimse facade: loaded silent, and its association dump shortened.
import { describe, expect, it } from 'vitest'
import { dimse } from './facade.js'

interface TestAssociation {
  addPresentationContext(abstractSyntaxUid: string): number
  toString(): string
}

describe('dimse()', () => {
  it('makes the association dump dcmjs-dimse logs from a one-line summary, not a dump of every context', () => {
    const api = dimse() as unknown as { association: { Association: new (calling: string, called: string) => TestAssociation } }
    const association = new api.association.Association('SCANNER', 'PACSFLOW')
    // As a storescu proposes: many storage SOP classes (here 120 contexts of MR Image Storage and Verification).
    for (let k = 0; k < 60; k++) {
      association.addPresentationContext('1.2.840.10008.5.1.4.1.1.4')
      association.addPresentationContext('1.2.840.10008.1.1')
    }
    expect(association.toString()).toBe('association SCANNER -> PACSFLOW, 120 presentation contexts')
  })
})
