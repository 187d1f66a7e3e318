// The phantom's tissues: label value, name, susceptibility and the signal parameters of each.

/**
 * One labelled tissue. Susceptibility is in ppm relative to CSF (SI units), inside the brain
 * the local source; `backgroundChi` is what the tissue contributes to the background field,
 * relative to air (so the air around the head and in the sinus is 0 and the padding of the
 * forward model is air too).
 */
export interface Tissue {
  readonly label: number
  readonly name: string
  /** ppm relative to CSF; non-zero only inside the brain mask. */
  readonly chi: number
  /** ppm relative to air, for the background field (tissue about -9.4, cortical bone lower). */
  readonly backgroundChi: number
  /** Inside the brain mask (the local field's sources and the scorer's region). */
  readonly brain: boolean
  /** Proton density (relative, CSF 1); 0 means no signal. */
  readonly protonDensity: number
  /** T2* at 3 T in ms (unused where protonDensity is 0). */
  readonly t2StarMs: number
  /** MPRAGE-like T1-weighted intensity (relative, white matter brightest in the brain). */
  readonly t1Weighted: number
}

/**
 * Tissue relative to air: water is about -9.05 ppm and air +0.36 ppm (SI), so air is about
 * +9.4 ppm relative to tissue (Schenck, Med Phys 1996, 23:815). Cortical bone is about 2 ppm
 * more diamagnetic than water (Hopkins & Wehrli, MRM 1997, 37:494).
 */
export const TISSUE_RELATIVE_TO_AIR = -9.4
const BONE_RELATIVE_TO_AIR = TISSUE_RELATIVE_TO_AIR - 2.0

/**
 * Label values as written in labels.nii and truth.json. Susceptibilities (ppm, relative to
 * CSF) lie in the ranges reported for healthy adults by Deistung et al. (NeuroImage 2013,
 * 65:299) and used for the QSM challenge 2.0 head phantom (Marques et al., MRM 2021, 86:526):
 * deep grey nuclei positive (iron), white matter negative (myelin), veins strongly positive
 * (deoxyhaemoglobin), calcification negative. T2* values are approximate 3 T figures (grey/white
 * matter after Wansapura et al., JMRI 1999, 9:531; iron-rich nuclei shorter, after Peran et al.,
 * Brain 2007, 130:2614); proton densities are relative to CSF.
 */
export const TISSUES: readonly Tissue[] = [
  { label: 0, name: 'air', chi: 0, backgroundChi: 0, brain: false, protonDensity: 0, t2StarMs: 1, t1Weighted: 0 },
  { label: 1, name: 'scalp', chi: 0, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: false, protonDensity: 0.9, t2StarMs: 30, t1Weighted: 0.9 },
  { label: 2, name: 'skull', chi: 0, backgroundChi: BONE_RELATIVE_TO_AIR, brain: false, protonDensity: 0, t2StarMs: 1, t1Weighted: 0.04 },
  { label: 3, name: 'air sinus', chi: 0, backgroundChi: 0, brain: false, protonDensity: 0, t2StarMs: 1, t1Weighted: 0 },
  { label: 4, name: 'extracerebral CSF', chi: 0, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: false, protonDensity: 1, t2StarMs: 200, t1Weighted: 0.12 },
  { label: 5, name: 'white matter', chi: -0.03, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.69, t2StarMs: 45, t1Weighted: 0.85 },
  { label: 6, name: 'grey matter', chi: 0.02, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.8, t2StarMs: 55, t1Weighted: 0.55 },
  { label: 7, name: 'ventricles', chi: 0, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 1, t2StarMs: 200, t1Weighted: 0.1 },
  { label: 8, name: 'caudate', chi: 0.06, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.82, t2StarMs: 40, t1Weighted: 0.58 },
  { label: 9, name: 'putamen', chi: 0.05, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.82, t2StarMs: 35, t1Weighted: 0.6 },
  { label: 10, name: 'globus pallidus', chi: 0.15, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.78, t2StarMs: 22, t1Weighted: 0.68 },
  { label: 11, name: 'thalamus', chi: 0.01, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.78, t2StarMs: 42, t1Weighted: 0.65 },
  { label: 12, name: 'substantia nigra', chi: 0.12, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.78, t2StarMs: 24, t1Weighted: 0.55 },
  { label: 13, name: 'red nucleus', chi: 0.1, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.78, t2StarMs: 27, t1Weighted: 0.6 },
  { label: 14, name: 'veins', chi: 0.35, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.85, t2StarMs: 12, t1Weighted: 0.45 },
  { label: 15, name: 'straight sinus', chi: 0.45, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.85, t2StarMs: 10, t1Weighted: 0.45 },
  { label: 16, name: 'calcification', chi: -0.5, backgroundChi: TISSUE_RELATIVE_TO_AIR, brain: true, protonDensity: 0.3, t2StarMs: 6, t1Weighted: 0.2 },
]

/** Label values by name, for the phantom's geometry. */
export const LABEL = {
  air: 0,
  scalp: 1,
  skull: 2,
  sinus: 3,
  outerCsf: 4,
  whiteMatter: 5,
  greyMatter: 6,
  ventricles: 7,
  caudate: 8,
  putamen: 9,
  globusPallidus: 10,
  thalamus: 11,
  substantiaNigra: 12,
  redNucleus: 13,
  veins: 14,
  straightSinus: 15,
  calcification: 16,
} as const

/** A per-label lookup table of one tissue property, indexed by label value. */
export function tissueTable(property: (tissue: Tissue) => number): Float64Array {
  const table = new Float64Array(TISSUES.length)
  for (const tissue of TISSUES) table[tissue.label] = property(tissue)
  return table
}
