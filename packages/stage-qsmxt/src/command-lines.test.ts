// The command-line builder: every tool's argv, and its wrapping for local, Apptainer and Docker runs.
import { describe, expect, it } from 'vitest'
import {
  antsApplyTransformsArgs,
  antsRegistrationArgs,
  commandLine,
  dcm2niixArgs,
  dockerRemoveArgs,
  elastixArgs,
  hdBetArgs,
  hdBetMaskPath,
  qsmxtArgs,
  qsmxtChimapPath,
  qsmxtLocalFieldPath,
  type ContainerSettings,
} from './command-lines.js'
import { resolveOptions, type ResolvedTool } from './options.js'

const settings: ContainerSettings = { apptainerVerb: 'run', apptainerArgs: [], dockerUser: '1000:1000', dockerArgs: [] }
const tool = (overrides: Partial<ResolvedTool> = {}): ResolvedTool => ({ ...resolveOptions({}).tools.qsmxt, ...overrides })

describe('commandLine', () => {
  it('runs a local tool as itself, with the site arguments last and the GPU chosen by CUDA_VISIBLE_DEVICES', () => {
    const line = commandLine({ tool: tool({ args: ['--qsm-algorithm', 'tgv'], env: { OMP_NUM_THREADS: '4' } }), args: ['run', '/b', '/o'], gpu: { device: 2 } }, settings)
    expect(line).toEqual({ runtime: 'local', file: 'qsmxt', args: ['run', '/b', '/o', '--qsm-algorithm', 'tgv'], env: { OMP_NUM_THREADS: '4', CUDA_VISIBLE_DEVICES: '2' } })
  })

  it('hides every GPU from a CPU run and sets nothing for tools that use none', () => {
    expect(commandLine({ tool: tool(), args: [], gpu: 'cpu' }, settings).env).toEqual({ CUDA_VISIBLE_DEVICES: '' })
    expect(commandLine({ tool: tool(), args: [] }, settings).env).toEqual({})
  })

  it('leaves the site arguments out of bare runs (version probes)', () => {
    expect(commandLine({ tool: tool({ args: ['--debug'] }), args: ['--version'], bare: true }, settings).args).toEqual(['--version'])
  })

  it('wraps Apptainer runs: --cleanenv, --nv for the GPU, binds, --env, --pwd, then image and command', () => {
    const line = commandLine(
      {
        tool: tool({ runtime: 'apptainer', image: '/images/qsmxt_8.3.4.sif', env: { A: '1' } }),
        args: ['/w/bids', '/w/out', '--auto_yes'],
        binds: [{ host: '/w', container: '/w' }, { host: '/data', container: '/data', readOnly: true }, { host: '/data', container: '/data' }],
        gpu: { device: 1 },
        cwd: '/w/qsmxt',
      },
      settings,
    )
    expect(line.file).toBe('apptainer')
    expect(line.args).toEqual([
      'run', '--cleanenv', '--nv',
      '--bind', '/data:/data', '--bind', '/w:/w',
      '--env', 'A=1', '--env', 'CUDA_VISIBLE_DEVICES=1',
      '--pwd', '/w/qsmxt',
      '/images/qsmxt_8.3.4.sif', 'qsmxt', '/w/bids', '/w/out', '--auto_yes',
    ])
    expect(line.env).toEqual({})
  })

  it('uses exec when configured and no --nv on the CPU', () => {
    const line = commandLine({ tool: tool({ runtime: 'apptainer', image: 'docker://vnmd/qsmxt_8.3.4' }), args: ['--version'], gpu: 'cpu' }, { ...settings, apptainerVerb: 'exec', apptainerArgs: ['--contain'] })
    expect(line.args).toEqual(['exec', '--cleanenv', '--env', 'CUDA_VISIBLE_DEVICES=', '--contain', 'docker://vnmd/qsmxt_8.3.4', 'qsmxt', '--version'])
  })

  it('wraps Docker runs: --rm --init, a name, the user, --gpus device=N, volumes, -e, -w', () => {
    const line = commandLine(
      {
        tool: tool({ name: 'hdBet', command: 'hd-bet', runtime: 'docker', image: 'pacsflow/hd-bet:2.0.1' }),
        args: ['-i', '/w/in.nii.gz'],
        binds: [{ host: '/w', container: '/w' }, { host: '/dicom', container: '/dicom', readOnly: true }],
        gpu: { device: 3 },
        cwd: '/w/skull-strip',
        containerName: 'pacsflow-job-skull-strip',
      },
      settings,
    )
    expect(line).toEqual({
      runtime: 'docker',
      file: 'docker',
      args: [
        'run', '--rm', '--init', '--name', 'pacsflow-job-skull-strip', '--user', '1000:1000', '--gpus', 'device=3',
        '-v', '/dicom:/dicom:ro', '-v', '/w:/w', '-w', '/w/skull-strip',
        'pacsflow/hd-bet:2.0.1', 'hd-bet', '-i', '/w/in.nii.gz',
      ],
      env: {},
      containerName: 'pacsflow-job-skull-strip',
    })
  })

  it('passes tool variables to Docker with -e and no CUDA_VISIBLE_DEVICES (the container sees its one GPU as 0)', () => {
    const line = commandLine({ tool: tool({ runtime: 'docker', image: 'img', env: { B: '2' } }), args: [], gpu: { device: 0 } }, { ...settings, dockerUser: false, dockerArgs: ['--shm-size', '8g'] })
    expect(line.args).toEqual(['run', '--rm', '--init', '--gpus', 'device=0', '-e', 'B=2', '--shm-size', '8g', 'img', 'qsmxt'])
  })

  it('refuses bind paths with a colon (they would split the bind spec)', () => {
    expect(() => commandLine({ tool: tool({ runtime: 'docker', image: 'img' }), args: [], binds: [{ host: '/a:b', container: '/a' }] }, settings)).toThrow(/':'/)
  })

  it('removes a container by name', () => {
    expect(dockerRemoveArgs('pacsflow-x')).toEqual(['rm', '-f', 'pacsflow-x'])
  })
})

describe('tool arguments', () => {
  it('dcm2niix: BIDS sidecar, gzip choice, name pattern, output and input folders', () => {
    expect(dcm2niixArgs({ input: '/in', output: '/out', gzip: false })).toEqual(['-b', 'y', '-z', 'n', '-f', '%s_%p', '-o', '/out', '/in'])
    expect(dcm2niixArgs({ input: '/in', output: '/out', gzip: true, pattern: '%s' })).toEqual(['-b', 'y', '-z', 'y', '-f', '%s', '-o', '/out', '/in'])
  })

  it('HD-BET v2: -device cuda|cpu, --disable_tta unless TTA, --save_bet_mask; the mask is OUT_bet.nii.gz', () => {
    expect(hdBetArgs(2, { input: '/i.nii.gz', output: '/o.nii.gz', gpu: { device: 1 }, tta: false, mode: 'fast' })).toEqual(['-i', '/i.nii.gz', '-o', '/o.nii.gz', '-device', 'cuda', '--disable_tta', '--save_bet_mask'])
    expect(hdBetArgs(2, { input: '/i.nii.gz', output: '/o.nii.gz', gpu: 'cpu', tta: true, mode: 'fast' })).toEqual(['-i', '/i.nii.gz', '-o', '/o.nii.gz', '-device', 'cpu', '--save_bet_mask'])
    expect(hdBetMaskPath(2, '/w/brain.nii.gz')).toBe('/w/brain_bet.nii.gz')
  })

  it('HD-BET v1: -mode, -device 0 (the visible GPU) or cpu, -tta 0|1; the mask is OUT_mask.nii.gz', () => {
    expect(hdBetArgs(1, { input: '/i.nii.gz', output: '/o.nii.gz', gpu: { device: 3 }, tta: false, mode: 'fast' })).toEqual(['-i', '/i.nii.gz', '-o', '/o.nii.gz', '-mode', 'fast', '-device', '0', '-tta', '0'])
    expect(hdBetArgs(1, { input: '/i.nii.gz', output: '/o.nii.gz', gpu: 'cpu', tta: true, mode: 'accurate' })).toEqual(['-i', '/i.nii.gz', '-o', '/o.nii.gz', '-mode', 'accurate', '-device', 'cpu', '-tta', '1'])
    expect(hdBetMaskPath(1, '/w/brain.nii.gz')).toBe('/w/brain_mask.nii.gz')
  })

  it('QSMxT v8: BIDS OUT --premade --auto_yes, the mask pipeline and threads when given', () => {
    expect(qsmxtArgs(8, { bidsDir: '/b', outDir: '/o', premade: 'gre' })).toEqual(['/b', '/o', '--premade', 'gre', '--auto_yes'])
    expect(qsmxtArgs(8, { bidsDir: '/b', outDir: '/o', premade: 'gre', maskPipeline: 'pacsflow', threads: 4 })).toEqual([
      '/b', '/o', '--premade', 'gre', '--auto_yes', '--use_existing_masks', '--existing_masks_pipeline', 'pacsflow', '--n_procs', '4',
    ])
  })

  it('QSMxT v9: run BIDS OUT, --use-custom-masks and --n-procs when given', () => {
    expect(qsmxtArgs(9, { bidsDir: '/b', outDir: '/o', premade: 'gre' })).toEqual(['run', '/b', '/o'])
    expect(qsmxtArgs(9, { bidsDir: '/b', outDir: '/o', premade: 'gre', maskPipeline: 'pacsflow', threads: 2 })).toEqual(['run', '/b', '/o', '--use-custom-masks', 'pacsflow', '--n-procs', '2'])
  })

  it('finds the Chimap where each QSMxT generation documents it', () => {
    expect(qsmxtChimapPath(8, '/o', '01', '01', 'MEGRE')).toBe('/o/sub-01/ses-01/anat/sub-01_ses-01_MEGRE_Chimap.nii')
    expect(qsmxtChimapPath(9, '/o', '01', '01', 'MEGRE')).toBe('/o/derivatives/qsmxt/sub-01/ses-01/anat/sub-01_ses-01_Chimap.nii')
    expect(qsmxtLocalFieldPath('/o', '01', '01')).toBe('/o/derivatives/qsmxt/workflow/sub-01/ses-01/bgremove/sub-01_ses-01_localfield.nii')
  })

  it('antsRegistration: the antsRegistrationSyN rigid stage with MI, one collapsed transform', () => {
    const args = antsRegistrationArgs({ fixed: '/f.nii', moving: '/m.nii.gz', prefix: '/w/ants_', initialTransform: 'none' })
    expect(args).toEqual([
      '--verbose', '1', '--dimensionality', '3', '--float', '0', '--collapse-output-transforms', '1',
      '--output', '[/w/ants_,/w/ants_Warped.nii.gz]', '--interpolation', 'Linear', '--use-histogram-matching', '0',
      '--winsorize-image-intensities', '[0.005,0.995]', '--transform', 'Rigid[0.1]', '--metric', 'MI[/f.nii,/m.nii.gz,1,32,Regular,0.25]',
      '--convergence', '[1000x500x250x100,1e-6,10]', '--shrink-factors', '8x4x2x1', '--smoothing-sigmas', '3x2x1x0vox',
    ])
    const withInit = antsRegistrationArgs({ fixed: '/f.nii', moving: '/m.nii.gz', prefix: '/w/ants_', initialTransform: 'center-of-mass' })
    expect(withInit.slice(withInit.indexOf('--initial-moving-transform'), withInit.indexOf('--initial-moving-transform') + 2)).toEqual(['--initial-moving-transform', '[/f.nii,/m.nii.gz,1]'])
    expect(antsRegistrationArgs({ fixed: 'f', moving: 'm', prefix: 'p', initialTransform: 'geometric-center' })).toContain('[f,m,0]')
  })

  it('antsApplyTransforms: nearest for masks, linear with the inverse for maps', () => {
    expect(antsApplyTransformsArgs({ input: '/m', reference: '/r', output: '/o', interpolation: 'NearestNeighbor', transform: '/t.mat', inverse: false })).toEqual(['-d', '3', '-i', '/m', '-r', '/r', '-o', '/o', '-n', 'NearestNeighbor', '-t', '/t.mat', '-f', '0'])
    expect(antsApplyTransformsArgs({ input: '/c', reference: '/r', output: '/o', interpolation: 'Linear', transform: '/t.mat', inverse: true })).toContain('[/t.mat,1]')
  })

  it('elastix: -f -m -p -out and -threads when given', () => {
    expect(elastixArgs({ fixed: '/f', moving: '/m', parameters: '/p.txt', outDir: '/o' })).toEqual(['-f', '/f', '-m', '/m', '-p', '/p.txt', '-out', '/o'])
    expect(elastixArgs({ fixed: '/f', moving: '/m', parameters: '/p.txt', outDir: '/o', threads: 2 })).toEqual(['-f', '/f', '-m', '/m', '-p', '/p.txt', '-out', '/o', '-threads', '2'])
  })
})
