// @pacsflow/stage-storescu: C-STORE to PACS exactly once, via dcmjs-dimse or DCMTK's storescu, with a durable outbox.
export type { StorescuErrorCode } from './errors.js'
export { storescu } from './storescu.js'
export { sendToPacs, type SendContext } from './send.js'
export { classifyStoreStatus, describeStoreStatus, type StatusClass } from './status.js'
export type {
  InstanceReceipt,
  InstanceStatus,
  SendRetryOptions,
  StorescuInput,
  StorescuOptions,
  StoreReceipt,
  TlsOptions,
} from './types.js'
