// The set-up every stage test file shares: a temp folder, the stand-in tools on PATH, synthetic echoes.
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import type { QsmNiftiInput } from '@pacsflow/imaging'
import { removeDir, syntheticEchoes, tempDir } from './fixtures.js'
import { installStandIns, withEnv, type StandIns } from './stand-ins.js'

export interface StandInWorld {
  /** The test file's temp folder (removed after its tests). */
  readonly root: string
  /** The stand-in executables, first on PATH while the file's tests run. */
  readonly tools: StandIns
  /** Four synthetic echoes as NIfTI, in `<root>/echoes`. */
  readonly echoes: QsmNiftiInput
}

/** Registers the file's beforeAll/afterAll and returns the world they fill (read it inside tests only). */
export function standInWorld(name: string): StandInWorld {
  const world = {} as { root: string; tools: StandIns; echoes: QsmNiftiInput }
  let restore: (() => void) | undefined
  beforeAll(async () => {
    world.root = tempDir(name)
    world.tools = installStandIns(world.root)
    restore = withEnv({ PATH: `${world.tools.binDir}:${process.env.PATH}`, STANDIN_LOG: world.tools.logFile })
    world.echoes = await syntheticEchoes(join(world.root, 'echoes'))
  })
  afterAll(() => {
    restore?.()
    removeDir(world.root)
  })
  return world
}
