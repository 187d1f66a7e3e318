// Generations of a study: handing its files on as a snapshot, the late-instance policies, and ack/reject.
import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fsyncDir, PacsflowError, serializeError, TEMP_SUFFIX, writeFileAtomic } from '@pacsflow/core'
import { isValidUid } from '@pacsflow/imaging'
import { exists, filesUnder, isErrno, linkOrCopy, mkdirDurable, namesIn, removeViaTrash } from './fs-util.js'
import { parseGenerationName, parseInstanceFileName, type SpoolLayout } from './layout.js'
import type { SpoolCore } from './spool.js'
import { readStudyState, writeStudyState, type StudyState } from './study-state.js'
import type { LatePolicy, Retention } from './types.js'

/** One instance file of a study tree or snapshot: `<SeriesUID>/<SOPUID>[.vN].dcm`. */
export interface InstanceFile {
  /** `<series>/<file>`, relative to the tree. */
  readonly file: string
  readonly series: string
  readonly sop: string
  readonly version: number
}

/** The instance files among relative paths (anything else, e.g. `error.json`, is left out). */
export function instanceFiles(relativePaths: readonly string[]): InstanceFile[] {
  const out: InstanceFile[] = []
  for (const file of relativePaths) {
    const parts = file.split('/')
    if (parts.length !== 2 || !isValidUid(parts[0]!)) continue
    const parsed = parseInstanceFileName(parts[1]!)
    if (parsed !== undefined) out.push({ file, series: parts[0]!, sop: parsed.sopInstanceUid, version: parsed.version })
  }
  return out
}

/** The generations of `study` handed on and not yet settled (their snapshots), ascending. */
export async function generationsInFlight(layout: SpoolLayout, study: string): Promise<number[]> {
  const out: number[] = []
  for (const name of await namesIn(layout.folder('jobs'))) {
    const parsed = parseGenerationName(name)
    if (parsed?.studyInstanceUid === study) out.push(parsed.generation)
  }
  return out.sort((a, b) => a - b)
}

/** Hard-links `files` of `from` into a new snapshot folder, flushed, then renamed into place in one step. */
async function makeSnapshot(layout: SpoolLayout, from: string, files: readonly string[], target: string): Promise<void> {
  const jobs = layout.folder('jobs')
  const temp = join(jobs, `.${basename(target)}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`)
  await mkdir(temp)
  const folders = new Set<string>([temp])
  for (const file of files) {
    const folder = dirname(join(temp, file))
    if (!folders.has(folder)) {
      await mkdir(folder, { recursive: true })
      folders.add(folder)
    }
    await linkOrCopy(join(from, file), join(temp, file))
  }
  for (const folder of folders) await fsyncDir(folder)
  await rename(temp, target)
  await fsyncDir(jobs)
}

/**
 * Brings back the files of the last settled generation that the tree lacks, so that a study that
 * receives instances after it was settled is handed on again with everything (`'new-job'`).
 * Only with `retention: 'keep'` (or a rejected generation) is there anything to bring back.
 * A SOP instance the tree already holds in any version is not brought back: the newer one wins.
 */
async function restoreSettled(core: SpoolCore, study: string, state: StudyState): Promise<number> {
  const { layout } = core
  const candidates = [layout.done(study, state.generation), layout.failed(study, state.generation)]
  let source: string | undefined
  for (const candidate of candidates) if (source === undefined && (await exists(candidate))) source = candidate
  if (source === undefined) return 0
  const tree = layout.study(study)
  const present = new Set(instanceFiles(await filesUnder(tree)).map((f) => `${f.series}/${f.sop}`))
  const touched = new Set<string>()
  let restored = 0
  for (const f of instanceFiles(await filesUnder(source))) {
    if (present.has(`${f.series}/${f.sop}`)) continue
    await mkdirDurable(join(tree, f.series), layout.dir)
    try {
      await linkOrCopy(join(source, f.file), join(tree, f.file))
      restored++
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error
    }
    touched.add(join(tree, f.series))
  }
  for (const folder of touched) await fsyncDir(folder)
  return restored
}

export type HandOnOutcome =
  | { readonly kind: 'handed'; readonly generation: number; readonly files: readonly string[]; readonly restored: number }
  | { readonly kind: 'nothing' }
  | { readonly kind: 'ignored'; readonly files: readonly string[]; readonly treeRemoved: boolean }
  | { readonly kind: 'refused'; readonly files: readonly string[]; readonly treeRemoved: boolean; readonly path: string }

/**
 * Under the study lock: hands the study's tree on as generation N+1 (a snapshot in `jobs/`),
 * or applies the late policy to instances that arrived after the study was handed on.
 * The snapshot is in place before the state file records N+1, and the scan at start takes the
 * higher of the two, so a crash between them neither loses nor repeats a generation.
 */
export async function handOnStudy(core: SpoolCore, study: string, policy: LatePolicy): Promise<HandOnOutcome> {
  const { layout } = core
  const tree = layout.study(study)
  const state = await readStudyState(layout, study)
  const inFlight = await generationsInFlight(layout, study)
  const latest = inFlight.at(-1)
  const handed = new Set(latest === undefined ? [] : await filesUnder(layout.snapshot(study, latest)))
  let treeFiles = instanceFiles(await filesUnder(tree)).map((f) => f.file)
  const fresh = treeFiles.filter((file) => !handed.has(file))
  if (fresh.length === 0) return { kind: 'nothing' }
  const generation = Math.max(state.generation, latest ?? 0)
  if (generation > 0 && policy !== 'new-job') {
    return applyLatePolicy(layout, study, { ...state, generation }, policy, latest === undefined ? undefined : handed, fresh)
  }
  let restored = 0
  if (generation > 0 && latest === undefined) {
    restored = await restoreSettled(core, study, state)
    if (restored > 0) treeFiles = instanceFiles(await filesUnder(tree)).map((f) => f.file)
  }
  const next = generation + 1
  await makeSnapshot(layout, tree, treeFiles, layout.snapshot(study, next))
  await writeStudyState(layout, { ...state, generation: next, handedOnAt: new Date().toISOString() })
  return { kind: 'handed', generation: next, files: treeFiles, restored }
}

/**
 * `'ignore'` removes the late files, `'error'` moves them to `failed/<StudyUID>.late-<time>/`
 * with an error.json. With no generation in flight, the late files are those the last settled
 * generation did not hold, and the tree goes afterwards (its other files were handed on before).
 */
async function applyLatePolicy(
  layout: SpoolLayout,
  study: string,
  state: StudyState,
  policy: 'ignore' | 'error',
  inFlight: ReadonlySet<string> | undefined,
  fresh: readonly string[],
): Promise<HandOnOutcome> {
  const tree = layout.study(study)
  const settled = inFlight ?? (await settledFiles(layout, study, state.generation))
  const late = fresh.filter((file) => !settled.has(file))
  let path: string | undefined
  if (policy === 'error' && late.length > 0) path = await refuseLate(layout, study, state.generation, tree, late)
  else for (const file of late) await rm(join(tree, file), { force: true })
  if (inFlight === undefined) await removeViaTrash(tree, layout.folder('trash'))
  await recordSettled(layout, state, state.generation, policy === 'error' ? 'late-refused' : 'late-ignored')
  const treeRemoved = inFlight === undefined
  return path === undefined ? { kind: 'ignored', files: late, treeRemoved } : { kind: 'refused', files: late, treeRemoved, path }
}

/** The instance files of a settled generation (kept in done/ or failed/), or none. */
async function settledFiles(layout: SpoolLayout, study: string, generation: number): Promise<Set<string>> {
  const files = new Set<string>()
  for (const folder of [layout.done(study, generation), layout.failed(study, generation)]) {
    for (const f of instanceFiles(await filesUnder(folder))) files.add(f.file)
  }
  return files
}

/** `latePolicy: 'error'`: the late files go to `failed/<StudyUID>.late-<time>/` with an error.json. */
async function refuseLate(layout: SpoolLayout, study: string, generation: number, tree: string, files: readonly string[]): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')
  const target = join(layout.folder('failed'), `${study}.late-${stamp}-${randomBytes(2).toString('hex')}`)
  const folders = new Set<string>()
  for (const file of files) {
    const folder = dirname(join(target, file))
    if (!folders.has(folder)) await mkdir(folder, { recursive: true })
    folders.add(folder)
    await rename(join(tree, file), join(target, file))
  }
  for (const folder of folders) await fsyncDir(folder)
  const error = new PacsflowError(
    'SPOOL_LATE_INSTANCES',
    `${files.length} instance(s) arrived after study ${study} was handed on (generation ${generation}); latePolicy is 'error'`,
    { details: { studyInstanceUid: study, generation, files } },
  )
  await writeFileAtomic(join(target, 'error.json'), `${JSON.stringify(serializeError(error), null, 1)}\n`)
  await fsyncDir(layout.folder('failed'))
  return target
}

async function recordSettled(layout: SpoolLayout, state: StudyState, generation: number, outcome: NonNullable<StudyState['settled']>['outcome']): Promise<void> {
  await writeStudyState(layout, { ...state, generation: Math.max(state.generation, generation), settled: { generation, outcome, at: new Date().toISOString() } })
}

export type Settlement = { readonly kind: 'ack'; readonly retention: Retention } | { readonly kind: 'reject'; readonly error: unknown }

/**
 * Under the study lock: settles generation `generation`. The study tree goes (to the trash) when
 * it holds nothing beyond this generation's files, else it stays for the next generation. Then the
 * snapshot moves to `done/` (ack, keep), `failed/` with `error.json` (reject), or is deleted (ack,
 * delete). Idempotent: a generation without a snapshot is already settled. Returns whether the
 * tree was removed, or undefined when there was nothing to settle.
 */
export async function settleGeneration(core: SpoolCore, study: string, generation: number, settlement: Settlement): Promise<{ treeRemoved: boolean } | undefined> {
  const { layout } = core
  const snapshot = layout.snapshot(study, generation)
  if (!(await exists(snapshot))) return undefined
  const tree = layout.study(study)
  const inSnapshot = new Set(instanceFiles(await filesUnder(snapshot)).map((f) => f.file))
  const treeFiles = instanceFiles(await filesUnder(tree))
  const treeRemoved = treeFiles.every((f) => inSnapshot.has(f.file))
  if (treeRemoved) await removeViaTrash(tree, layout.folder('trash'))
  const state = await readStudyState(layout, study)
  if (settlement.kind === 'reject') {
    await writeFileAtomic(join(snapshot, 'error.json'), `${JSON.stringify(serializeError(settlement.error), null, 1)}\n`)
    await moveGeneration(snapshot, layout.failed(study, generation))
  } else if (settlement.retention === 'keep') {
    await moveGeneration(snapshot, layout.done(study, generation))
  } else {
    await removeViaTrash(snapshot, layout.folder('trash'))
  }
  await recordSettled(layout, state, generation, settlement.kind === 'ack' ? 'acked' : 'rejected')
  return { treeRemoved }
}

/** Renames a snapshot to its done/failed name (a stale folder of that name, from a lost state file, gets a suffix). */
async function moveGeneration(from: string, to: string): Promise<void> {
  let target = to
  if (await exists(target)) target = `${to}.${Date.now()}`
  await rename(from, target)
  await fsyncDir(dirname(from))
  await fsyncDir(dirname(target))
}
