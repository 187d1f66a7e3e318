// Example: one result to PACS and to a folder (a memory stick for the operating theatre) at once.
//
// fanOut hands the dicomised series to both sinks concurrently and collects both receipts. If
// PACS is down, the job fails retryably and, when it runs again, only the PACS branch runs: the
// folder copy is not written twice. Here the input is the testkit's synthetic exam, given to the
// runner directly (runner.run) instead of through a source.
//
//   PACS_HOST=127.0.0.1 PACS_PORT=4242 PACS_AET=ORTHANC   the PACS (e.g. a local Orthanc)
//   STICK=/media/usb/QSM                                   the folder (default ./.pacsflow-stick)
//
// Run: PACS_PORT=4242 PACS_AET=ORTHANC npm run two-destinations -w examples
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRunner, fanOut, memoryJobStore, pipeline } from '@pacsflow/core'
import { groupStudies, indexDicom, qsmDicomiseInput, qsmRoles, selectStage } from '@pacsflow/imaging'
import { dicomise } from '@pacsflow/stage-dicomise'
import { folderOutput } from '@pacsflow/stage-folder-output'
import { qsmNative } from '@pacsflow/stage-qsm-native'
import { storescu } from '@pacsflow/stage-storescu'
import { makeExam } from '@pacsflow/testkit'

const env = process.env
const exam = await makeExam(join(await mkdtemp(join(tmpdir(), 'pacsflow-two-')), 'exam'), { preset: 'small' })
const [study] = groupStudies((await indexDicom(exam.dicomDir)).instances)

const flow = pipeline(selectStage(qsmRoles))
  .pipe(qsmNative())
  .pipe(dicomise({ input: qsmDicomiseInput, profile: 'brainlab' }))
  .pipe(
    fanOut({
      pacs: storescu({ host: env.PACS_HOST ?? '127.0.0.1', port: Number(env.PACS_PORT ?? 4242), calledAet: env.PACS_AET ?? 'ORTHANC', callingAet: 'PACSFLOW' }),
      stick: folderOutput({ dir: env.STICK ?? join(process.cwd(), '.pacsflow-stick'), layout: 'patient-study-series' }),
    }),
  )
const runner = createRunner({ pipeline: flow, store: memoryJobStore() })
const receipts = await runner.run(study!)
process.stdout.write(
  `PACS: ${receipts.pacs.stored} of ${receipts.pacs.total} instances stored at ${receipts.pacs.destination.calledAet}\n` +
    `folder: ${receipts.stick.written} files written to ${receipts.stick.dir}\n`,
)
