// The part of @pacsflow/spool's Spool the receiver writes into: a fresh incoming path, and commit (durable, UID-checked).
import type { Spool } from '@pacsflow/spool'

export type { CommitResult, CommitStatus, Provenance } from '@pacsflow/spool'

/** What the C-STORE SCP needs of a spool: a `Spool` from `createSpool` (or a wrapper of one, e.g. to count commits). */
export type ReceiverSpool = Pick<Spool, 'dir' | 'incomingPath' | 'commit'>
