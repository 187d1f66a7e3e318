import { describe, expect, it } from 'vitest'
import { UsageError } from '../command.js'
import { watchCommand } from './watch.js'

const io = { stdout: () => {}, stderr: () => {}, env: {}, cwd: '/tmp', isTty: false }

describe('pacsflow watch (arguments)', () => {
  it('refuses missing or bad arguments before it starts anything', async () => {
    const cases: [Record<string, string | boolean>, string[], RegExp][] = [
      [{ spool: 's', out: 'o' }, [], /folder to watch/],
      [{ out: 'o' }, ['drop'], /--spool <dir> and --out <dir> are required/],
      [{ spool: 's', out: 'o' }, ['drop', 'more'], /unexpected arguments: more/],
      [{ spool: 's', out: 'o', 'quiet-period': 'soon' }, ['drop'], /--quiet-period must be a number of seconds/],
      [{ spool: 's', out: 'o', stable: '-1' }, ['drop'], /--stable must be a number of seconds/],
      [{ spool: 's', out: 'o', layout: 'tree' }, ['drop'], /--layout must be flat or patient-study-series/],
    ]
    for (const [values, positionals, message] of cases) {
      const run = watchCommand.run({ values, positionals }, io)
      await expect(run).rejects.toBeInstanceOf(UsageError)
      await expect(run).rejects.toThrow(message)
    }
  })

  it('refuses a spool inside the watched folder (INVALID_OPTIONS)', async () => {
    await expect(watchCommand.run({ values: { spool: 'drop/spool', out: 'out' }, positionals: ['drop'] }, io)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
  })
})
