// `pacsflow score-qsm`: scores a susceptibility map against the ground truth of a synthetic exam.
import { resolve } from 'node:path'
import type { ScoreOptions } from '@pacsflow/testkit'
import { defineCommand, UsageError } from '../command.js'

export const scoreQsmCommand = defineCommand({
  name: 'score-qsm',
  summary: 'score a QSM result (ppm, on the GRE grid) against a make-exam ground truth',
  usage: 'pacsflow score-qsm <estimate.nii[.gz]> <truth-dir> [--mask <mask.nii>] [--erosion <mm>] [--json]',
  help: `Prints NRMSE (100 ||x - t|| / ||t|| in the mask, both demeaned there), HFEN (the same on
Laplacian-of-Gaussian filtered images, sigma 1.5 voxels), Pearson correlation, the NRMSE inside the
mask eroded by 6 mm, and each labelled structure's mean against the truth with the slope and
intercept of their linear fit. The estimate must be on the truth's grid (the GRE grid, as dcm2niix
lays it out); another grid is refused (QSM_SCORE_GRID).

  --mask <file>    score inside this mask (on the same grid) instead of the truth's mask.nii
  --erosion <mm>   erosion for the interior NRMSE (default 6)
  --json           print the score as JSON`,
  options: {
    mask: { type: 'string' },
    erosion: { type: 'string' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    const [estimate, truthDir, ...extra] = args.positionals
    if (estimate === undefined || truthDir === undefined) throw new UsageError('<estimate.nii> and <truth-dir> are required')
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    const erosion = args.values.erosion === undefined ? undefined : Number(args.values.erosion)
    if (erosion !== undefined && !(Number.isFinite(erosion) && erosion >= 0)) throw new UsageError('--erosion must be a number of mm >= 0')
    const mask = args.values.mask
    const options: ScoreOptions = {
      ...(typeof mask === 'string' ? { mask: resolve(io.cwd, mask) } : {}),
      ...(erosion === undefined ? {} : { erosionMm: erosion }),
    }
    const { formatScore, scoreQsm } = await import('@pacsflow/testkit')
    const score = await scoreQsm(resolve(io.cwd, estimate), resolve(io.cwd, truthDir), options)
    io.stdout(args.values.json === true ? `${JSON.stringify(score, null, 2)}\n` : formatScore(score))
    return 0
  },
})
