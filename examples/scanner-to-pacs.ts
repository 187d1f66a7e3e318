// Example: the hospital service. The scanner (or PACS) pushes exams to pacsflow's DICOM receiver;
// each complete study runs series selection -> QSM -> dicomise onto the T1 -> C-STORE to PACS.
//
// QSM runs through stage-qsmxt when its tools (QSMxT, HD-BET, ANTs or elastix) are installed,
// otherwise natively (QSM_ENGINE=auto, the default; or force 'native' / 'qsmxt'). Everything is
// configured from environment variables, so it runs as a systemd unit (docs/deploying.md):
//
//   PACSFLOW_AET=QSM  PACSFLOW_PORT=11112  PACSFLOW_HOST=0.0.0.0      the receiver
//   PACSFLOW_ALLOWED_AETS=MR1,PACS        calling AE titles let in (default: any)
//   PACSFLOW_STATE=/var/lib/pacsflow      spool and job store live here
//   PACSFLOW_QUIET_SECONDS=60             a study is complete this long after its last instance
//   PACS_HOST=pacs  PACS_PORT=104  PACS_AET=PACS                 where results go
//   PACSFLOW_PROFILE=pacs|brainlab|stealthstation                 dicomise profile (default pacs)
//   QSM_ENGINE=auto|native|qsmxt  QSM_DEVICE=cpu|gpu  PACSFLOW_GPUS=1
//
// It logs JSON lines to standard error and stops cleanly on SIGTERM / SIGINT; a restart resumes every
// unfinished job and re-yields every study that was not finished (nothing is lost or sent twice).
//
// Run: PACS_HOST=127.0.0.1 PACS_PORT=4242 PACS_AET=ORTHANC npm run scanner-to-pacs -w examples
import { join } from 'node:path'
import { createRunner, fileJobStore, isPacsflowError, jsonLogger, pipeline, type Logger, type Stage } from '@pacsflow/core'
import { qsmDicomiseInput, qsmRoles, selectStage, type QsmInput, type QsmResult } from '@pacsflow/imaging'
import { dicomise, type ProfileName } from '@pacsflow/stage-dicomise'
import { dimseInput } from '@pacsflow/stage-dimse-input'
import { qsmNative } from '@pacsflow/stage-qsm-native'
import { qsmxt } from '@pacsflow/stage-qsmxt'
import { storescu } from '@pacsflow/stage-storescu'

const env = process.env
const log = jsonLogger({ level: env.PACSFLOW_LOG_LEVEL === 'debug' ? 'debug' : 'info' })
const state = env.PACSFLOW_STATE ?? join(process.cwd(), '.pacsflow-state')

function required(name: string): string {
  const value = env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required (see the header of examples/scanner-to-pacs.ts)`)
  return value
}

function number(name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback)
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${env[name]}`)
  return value
}

/** stage-qsmxt when asked for, or when 'auto' finds every tool it needs; otherwise the native engine. */
async function qsmStage(logger: Logger): Promise<Stage<QsmInput, QsmResult>> {
  const engine = env.QSM_ENGINE ?? 'auto'
  if (engine === 'native') return qsmNative()
  try {
    const stage = qsmxt({ device: env.QSM_DEVICE === 'gpu' ? 'gpu' : 'cpu', cpuFallback: true })
    await stage.check()
    logger.info({ engine: 'qsmxt' }, 'QSM through QSMxT')
    return stage
  } catch (error) {
    if (engine === 'qsmxt' || !isPacsflowError(error)) throw error
    logger.info({ engine: 'native', reason: error.message }, 'QSMxT tools not found: QSM runs natively')
    return qsmNative()
  }
}

const flow = pipeline(selectStage(qsmRoles))
  .pipe(await qsmStage(log))
  .pipe(dicomise({ input: qsmDicomiseInput, profile: (env.PACSFLOW_PROFILE ?? 'pacs') as ProfileName }))
  .pipe(storescu({ host: required('PACS_HOST'), port: number('PACS_PORT', 104), calledAet: required('PACS_AET'), callingAet: env.PACSFLOW_AET ?? 'PACSFLOW' }))

const allowed = env.PACSFLOW_ALLOWED_AETS?.split(',').map((aet) => aet.trim()).filter((aet) => aet !== '')
const runner = createRunner({
  source: dimseInput({
    aet: env.PACSFLOW_AET ?? 'PACSFLOW',
    port: number('PACSFLOW_PORT', 11112),
    host: env.PACSFLOW_HOST ?? '127.0.0.1',
    spool: join(state, 'spool'),
    quietPeriodMs: number('PACSFLOW_QUIET_SECONDS', 60) * 1000,
    ...(allowed === undefined || allowed.length === 0 ? {} : { allowedCallingAets: allowed }),
    onListening: (scp) => log.info({ port: scp.port }, 'receiver listening'),
  }),
  pipeline: flow,
  store: fileJobStore(join(state, 'jobs')),
  resources: { gpu: number('PACSFLOW_GPUS', 1) },
  log,
})
runner.on('job:done', (event) => log.info({ jobId: event.jobId, seconds: Math.round(event.durationMs / 1000) }, 'study processed and sent'))
runner.on('job:failed', (event) => log.error({ jobId: event.jobId, stage: event.stage, code: event.error.code }, event.error.message))

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'stopping: jobs in flight are checkpointed and resume on the next start')
    void runner.stop()
  })
}
await runner.start()
