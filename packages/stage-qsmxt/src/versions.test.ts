// Version detection from what each tool prints (texts as the tools' sources print them).
import { describe, expect, it } from 'vitest'
import { parseGenericVersion, parseHdBetCli, parseQsmxtVersion } from './versions.js'

describe('parseQsmxtVersion', () => {
  it('reads v8 from its log line and v9 from clap --version', () => {
    expect(parseQsmxtVersion('[INFO]: QSMxT v8.3.4\n')).toEqual({ version: '8.3.4', cli: 8, customMasks: true })
    expect(parseQsmxtVersion('qsmxt 9.13.0\nqsm-core: 0.27.1 (abc123)\ndeep-learning models: enabled\n')).toEqual({ version: '9.13.0', cli: 9, customMasks: true })
  })

  it('knows v9 took a mask from derivatives only from 9.6.0', () => {
    expect(parseQsmxtVersion('qsmxt 9.5.0')?.customMasks).toBe(false)
    expect(parseQsmxtVersion('qsmxt 9.6.0')?.customMasks).toBe(true)
    expect(parseQsmxtVersion('qsmxt 10.0.1')).toEqual({ version: '10.0.1', cli: 9, customMasks: true })
  })

  it('ignores the qsm-core version on the second line and finds none in noise', () => {
    expect(parseQsmxtVersion('qsmxt 9.2.0\nqsm-core: 0.27.1')?.version).toBe('9.2.0')
    expect(parseQsmxtVersion('command not found')).toBeUndefined()
  })
})

describe('parseHdBetCli', () => {
  it('tells v2 by --disable_tta/--save_bet_mask and v1 by -mode/-tta', () => {
    expect(parseHdBetCli('usage: hd-bet [-h] -i INPUT [-o OUTPUT] [-device DEVICE] [--disable_tta] [--save_bet_mask] [--no_bet_image] [--verbose]')).toBe(2)
    expect(parseHdBetCli('usage: hd-bet [-h] -i INPUT [-o OUTPUT] [-mode MODE] [-device DEVICE] [-tta TTA] [-pp PP] [-s SAVE_MASK]')).toBe(1)
    expect(parseHdBetCli('Traceback (most recent call last): ModuleNotFoundError: No module named torch')).toBeUndefined()
  })
})

describe('parseGenericVersion', () => {
  it('reads dcm2niix, ANTs and elastix', () => {
    expect(parseGenericVersion("Chris Rorden's dcm2niiX version v1.0.20220720  (JP2:OpenJPEG) GCC12.2.0 x86-64 (64-bit Linux)\nv1.0.20220720\n")).toBe('v1.0.20220720')
    expect(parseGenericVersion('ANTs Version: 2.5.4.post12-g1f4a3c2\nCompiled: Jun  1 2024 12:00:00\n')).toBe('2.5.4.post12-g1f4a3c2')
    expect(parseGenericVersion('elastix version: 5.0.1\n')).toBe('5.0.1')
    expect(parseGenericVersion('no idea')).toBeUndefined()
  })
})
