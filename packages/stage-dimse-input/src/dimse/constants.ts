// DICOM numbers the receiver speaks: PDU types (PS3.8), A-ASSOCIATE-RJ and A-ABORT fields, DIMSE command fields and statuses (PS3.7, PS3.4).

/** PS3.8 9.3.1: PDU types. */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const

/** PS3.8 Table 9-21: A-ASSOCIATE-RJ result. */
export const RejectResult = { Permanent: 1, Transient: 2 } as const

/** PS3.8 Table 9-21: A-ASSOCIATE-RJ source (2 is the service-provider's ACSE function, unused here). */
export const RejectSource = {
  /** DICOM UL service-user: the application (us) refused. */
  ServiceUser: 1,
  /** DICOM UL service-provider, presentation related function. */
  ProviderPresentation: 3,
} as const

/** PS3.8 Table 9-21: A-ASSOCIATE-RJ reason/diag., by source. */
export const RejectReason = {
  /** Source 1. */
  NoReasonGiven: 1,
  /** Source 1. */
  CallingAeNotRecognized: 3,
  /** Source 1. */
  CalledAeNotRecognized: 7,
  /** Source 3. */
  TemporaryCongestion: 1,
  /** Source 3. */
  LocalLimitExceeded: 2,
} as const

/** PS3.8 Table 9-26: A-ABORT source 0, the service-user (this application) initiated it; 2, the service-provider. */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const
/** PS3.8 Table 9-26: reasons with source 2. */
export const AbortReason = { NotSpecified: 0, UnexpectedPdu: 2 } as const

/** PS3.8 Table 9-18: presentation context results in an A-ASSOCIATE-AC. */
export const ContextResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const

/** PS3.7 E.1-1: CommandField values. */
export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
} as const

/** PS3.7 E.1-1: CommandDataSetType 0x0101 says no data set follows; any other value says one does. */
export const NO_DATA_SET = 0x0101

/** PS3.4 Table B.2-1 (C-STORE statuses) and PS3.7 C.4 (C-FIND, C-MOVE, C-GET). */
export const Status = {
  Success: 0x0000,
  /** PS3.7 Annex C: a C-FIND match, a C-MOVE/C-GET progress report. */
  Pending: 0xff00,
  PendingWarning: 0xff01,
  /** PS3.7 C.4.2.1.5: sub-operations complete, one or more failures or warnings. */
  SubOperationsWarning: 0xb000,
  /** PS3.4 B.2.3: Refused: Out of Resources (0xA7xx): the SCP could not store it now; the sender may retry. */
  OutOfResources: 0xa700,
  /** PS3.4 B.2.3: Error: Cannot understand (0xCxxx): the object itself is at fault. */
  CannotUnderstand: 0xc000,
  /** PS3.7 C.5.3: Refused: SOP Class not supported (no accepted context for it). */
  SopClassNotSupported: 0x0122,
} as const
