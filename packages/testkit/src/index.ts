// @pacsflow/testkit: test helpers for pacsflow pipelines (a loopback PACS; the synthetic QSM exam comes next).
export { freePort, startOrthanc, type OrthancOptions, type OrthancServer } from './orthanc.js'
export { copyTestSeries, haveTools, nibabelPython, testDataDir } from './tools.js'
