// A QSM score as a plain-text table, for the CLI and for logs.
import type { QsmScore } from './metrics.js'

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : String(value))

/** The headline metrics, then one line per structure, then the fit. */
export function formatScore(score: QsmScore): string {
  const lines = [
    `NRMSE        ${fixed(score.nrmse, 1)} %   (${score.maskVoxels} voxels in the mask, both demeaned there)`,
    `HFEN         ${fixed(score.hfen, 1)} %   (LoG, sigma 1.5 voxels)`,
    `correlation  ${fixed(score.correlation, 3)}`,
    `interior     ${fixed(score.interior.nrmse, 1)} %   NRMSE in the mask eroded by ${score.interior.erosionMm} mm (${score.interior.voxels} voxels)`,
    '',
  ]
  const width = Math.max(9, ...score.rois.map((r) => r.name.length))
  lines.push(`${'structure'.padEnd(width)}  ${'voxels'.padStart(7)}  ${'truth'.padStart(8)}  ${'estimate'.padStart(8)}  (ppm, demeaned in the mask)`)
  for (const roi of score.rois) {
    lines.push(`${roi.name.padEnd(width)}  ${String(roi.voxels).padStart(7)}  ${fixed(roi.truthMean, 4).padStart(8)}  ${fixed(roi.estimateMean, 4).padStart(8)}`)
  }
  lines.push('', `fit over ${score.fit.rois} structures: estimate = ${fixed(score.fit.slope, 3)} x truth ${score.fit.intercept < 0 ? '-' : '+'} ${fixed(Math.abs(score.fit.intercept), 4)} ppm`)
  return `${lines.join('\n')}\n`
}
