// The error codes of @pacsflow/stage-dimse-input, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** The receiver could not listen (port in use, no permission, bad address). */
    SCP_LISTEN_FAILED: 'the DICOM receiver could not listen'
    /** No TCP (or TLS) connection to the PACS, or it dropped mid-operation. Retryable. */
    QR_CONNECTION_FAILED: 'the PACS could not be reached'
    /** The PACS answered A-ASSOCIATE-RJ (PS3.8 9.3.4); retryable when the rejection is transient. */
    QR_ASSOCIATION_REJECTED: 'the PACS rejected the association'
    /** The PACS accepted no presentation context for the query/retrieve SOP class asked for. */
    QR_NOT_SUPPORTED: 'the PACS does not support the query/retrieve model'
    /** A request got no final response within `timeoutMs`. Retryable. */
    QR_TIMEOUT: 'the PACS did not answer in time'
    /** A C-FIND ended in a failure status, or without a final response. */
    QR_FIND_FAILED: 'the PACS query failed'
    /** No study matches the key (accession number, patient ID or study UID). */
    QR_NOT_FOUND: 'no study matches'
    /** A C-MOVE or C-GET ended in a failure status, or with failed sub-operations. */
    QR_RETRIEVE_FAILED: 'the retrieve failed'
    /** The PACS reported the retrieve complete, but the instances did not all reach the spool. */
    QR_NOT_RECEIVED: 'retrieved instances did not arrive'
  }
}

/** Every code this package raises. */
export type DimseInputErrorCode = Extract<PacsflowErrorCode, `SCP_${string}` | `QR_${string}`>
