// The error codes of @pacsflow/stage-storescu, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** No TCP connection to the PACS (refused, reset, unreachable), or it dropped mid-send. Retryable. */
    STORE_CONNECTION_FAILED: 'the PACS could not be reached'
    /** The PACS answered A-ASSOCIATE-RJ (PS3.8 9.3.4). Retryable when the rejection is transient. */
    STORE_ASSOCIATION_REJECTED: 'the PACS rejected the association'
    /** A request got no response within `timeoutMs` (the association is then aborted). Retryable. */
    STORE_TIMEOUT: 'the PACS did not answer in time'
    /** The association ended while a request had no response: the accounting check. Retryable. */
    STORE_NO_RESPONSE: 'a request got no response'
    /** The PACS answered Refused: Out of Resources (0xA7xx) or Resource Limitation (0x0213), and kept answering it. */
    STORE_OUT_OF_RESOURCES: 'the PACS is out of resources'
    /** The PACS answered a failure status (0xA9xx, 0xCxxx, 0x01xx, 0x02xx): it will not store the instance. */
    STORE_FAILED: 'the PACS refused the instance'
    /** The PACS accepted no presentation context for the instance's SOP class. */
    STORE_SOP_CLASS_REFUSED: 'the PACS does not accept the SOP class'
    /** The instance could not be converted to a transfer syntax the PACS accepted. */
    STORE_TRANSCODE_FAILED: 'the instance could not be converted to an accepted transfer syntax'
    /** Some instances were not stored; `details.failed` lists them, `details.receipt` says what was. */
    STORE_INCOMPLETE: 'some instances were not stored'
    /** The PACS does not hold instances it acknowledged (C-FIND after the send). Retryable: they are resent. */
    STORE_VERIFY_FAILED: 'the PACS does not hold every instance sent'
    /** A C-FIND to the PACS failed (no Query/Retrieve support, or no final response). */
    STORE_QUERY_FAILED: 'the PACS could not be queried'
    /** DCMTK's storescu could not be run, or ended in a way its log does not explain. */
    STORE_TOOL_FAILED: 'storescu failed'
  }
}

/** Every code this package raises. */
export type StorescuErrorCode = Extract<PacsflowErrorCode, `STORE_${string}`>
