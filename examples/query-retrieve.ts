// Example: a research team's "fetch these studies, process them, send the results back" job.
//
// Each accession number given on the command line is looked up in PACS (C-FIND, study level),
// its study brought to pacsflow's receiver with C-MOVE (or C-GET with QR_METHOD=get, for a PACS
// that cannot reach us), then selection -> native QSM -> dicomise -> C-STORE back to the same
// PACS. The script ends when every accession number has been found and processed (or failed).
//
//   PACS_HOST, PACS_PORT, PACS_AET   the PACS (it must know PACSFLOW_AET at PACSFLOW_PORT as a
//                                    C-MOVE destination; see docs/deploying.md)
//   PACSFLOW_AET=PACSFLOW  PACSFLOW_PORT=11113  PACSFLOW_STATE=./.pacsflow-qr  QR_METHOD=move|get
//
// Run: PACS_HOST=127.0.0.1 PACS_PORT=4242 PACS_AET=ORTHANC npm run query-retrieve -w examples -- ACC123 ACC124
import { join } from 'node:path'
import { createRunner, fileJobStore, jsonLogger, pipeline } from '@pacsflow/core'
import { qsmDicomiseInput, qsmRoles, selectStage } from '@pacsflow/imaging'
import { dicomise } from '@pacsflow/stage-dicomise'
import { queryRetrieve, type RetrieveReport } from '@pacsflow/stage-dimse-input'
import { qsmNative } from '@pacsflow/stage-qsm-native'
import { storescu } from '@pacsflow/stage-storescu'

const env = process.env
const accessionNumbers = process.argv.slice(2)
if (accessionNumbers.length === 0) throw new Error('give one or more accession numbers')
const pacs = { host: env.PACS_HOST ?? '127.0.0.1', port: Number(env.PACS_PORT ?? 104), aet: env.PACS_AET ?? 'PACS' }
const aet = env.PACSFLOW_AET ?? 'PACSFLOW'
const state = env.PACSFLOW_STATE ?? join(process.cwd(), '.pacsflow-qr')
const log = jsonLogger()

// What is still to come: accession numbers not yet looked up, and studies retrieved but not finished.
const pendingAccessions = new Set(accessionNumbers)
const pendingStudies = new Set<string>()
const jobStudy = new Map<string, string>()
const outcomes: string[] = []
let failures = 0

const runner = createRunner({
  source: queryRetrieve({
    pacs,
    aet,
    accessionNumbers,
    method: env.QR_METHOD === 'get' ? 'get' : 'move',
    receiver: { port: Number(env.PACSFLOW_PORT ?? 11113) },
    spool: join(state, 'spool'),
    quietPeriodMs: 5000,
    onRetrieve: (report: RetrieveReport) => {
      pendingAccessions.delete(report.accessionNumber)
      if (report.error !== undefined) {
        failures++
        outcomes.push(`${report.accessionNumber}: ${report.error.code}: ${report.error.message}`)
      }
      for (const study of report.studies) {
        if (study.error === undefined) pendingStudies.add(study.studyInstanceUid)
        else {
          failures++
          outcomes.push(`${report.accessionNumber} study ${study.studyInstanceUid}: ${study.error.code}: ${study.error.message}`)
        }
      }
      finishWhenDone()
    },
  }),
  pipeline: pipeline(selectStage(qsmRoles))
    .pipe(qsmNative())
    .pipe(dicomise({ input: qsmDicomiseInput }))
    .pipe(storescu({ host: pacs.host, port: pacs.port, calledAet: pacs.aet, callingAet: aet })),
  store: fileJobStore(join(state, 'jobs')),
  log,
})

// Delivery ids are `<StudyInstanceUID>.g<generation>`: the study a job belongs to.
runner.on('job:queued', (event) => {
  if (event.deliveryId !== undefined) jobStudy.set(event.jobId, event.deliveryId.replace(/\.g\d+$/, ''))
})
const settle = (jobId: string, outcome: string): void => {
  const study = jobStudy.get(jobId)
  if (study === undefined) return
  pendingStudies.delete(study)
  outcomes.push(`study ${study}: ${outcome}`)
  finishWhenDone()
}
runner.on('job:done', (event) => settle(event.jobId, 'processed and sent back'))
runner.on('job:failed', (event) => {
  failures++
  settle(event.jobId, `failed in ${event.stage}: ${event.error.code}`)
})

function finishWhenDone(): void {
  if (pendingAccessions.size > 0 || pendingStudies.size > 0) return
  void runner.stop().then(() => {
    process.stdout.write(`${outcomes.join('\n')}\n`)
    process.exitCode = failures > 0 ? 1 : 0
  })
}

process.once('SIGINT', () => void runner.stop())
await runner.start()
