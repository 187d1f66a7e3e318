// The options of folderInput.
import type { CompletionOptions, Retention, Spool } from '@pacsflow/spool'

export interface FolderInputOptions extends CompletionOptions {
  /** The drop folder to watch, recursively (it must exist; it is never removed). */
  readonly dir: string
  /** The spool folder (or a spool from createSpool); it must not lie inside `dir`, nor `dir` inside it. */
  readonly spool: string | Spool
  /** The source's name (default `'folder-input'`). */
  readonly name?: string
  /** A file is taken once its size and modification time have not changed for this long (default 2000 ms). */
  readonly stableMs?: number
  /** The whole folder is scanned again this often, the safety net for events fs.watch misses (network shares), in ms (default 5000). */
  readonly pollMs?: number
  /** Files copied into the spool at once (default 4). */
  readonly concurrency?: number
  /** Use fs.watch besides the periodic scan (default true; false for folders where watching is unreliable or costly). */
  readonly watch?: boolean
  /** After ack: `'keep'` moves the study to the spool's `done/` (default), `'delete'` removes it. */
  readonly retention?: Retention
}
