# Test helper for nifti.int.test.ts: nibabel's view of NIfTI files, and NIfTI files written by nibabel.
# Reads one JSON request on stdin: {"make": dir or null, "describe": [paths], "rawDir": dir};
# prints {"made": [paths], "files": [descriptions]} and writes each file's raw data to rawDir/<i>.raw.
import json
import math
import os
import sys

import nibabel as nib
import numpy as np


def finite(value):
    value = float(value)
    return value if math.isfinite(value) else repr(value)  # JSON has no NaN/Infinity


def matrix(m):
    return [[float(v) for v in row] for row in np.asarray(m)]


def describe(path, raw_path):
    img = nib.load(path)
    hdr = img.header
    # A loaded image's header has scl_slope/scl_inter moved into img.dataobj; read them as stored.
    with nib.openers.ImageOpener(path) as stream:
        stored = img.header_class.from_fileobj(stream)
    unscaled = np.asanyarray(img.dataobj.get_unscaled())
    dtype = unscaled.dtype
    # Raw values as the file stores them, little endian, x fastest (NIfTI order).
    with open(raw_path + '.raw', 'wb') as out:
        out.write(unscaled.astype(dtype.newbyteorder('<')).tobytes(order='F'))
    with open(raw_path + '.scaled', 'wb') as out:
        out.write(np.asanyarray(img.dataobj).astype('<f8').tobytes(order='F'))
    space, time = hdr.get_xyzt_units()
    return {
        'path': path,
        'version': 2 if isinstance(hdr, nib.Nifti2Header) else 1,
        'endianness': hdr.endianness,
        'shape': list(img.shape),
        'pixdim': [finite(v) for v in hdr['pixdim']],
        'dtype': dtype.name,
        'affine': matrix(img.affine),
        'qform': matrix(hdr.get_qform()),
        'sform': matrix(hdr.get_sform()),
        'qformCode': int(hdr['qform_code']),
        'sformCode': int(hdr['sform_code']),
        'sclSlope': finite(stored['scl_slope']),
        'sclInter': finite(stored['scl_inter']),
        'slope': finite(img.dataobj.slope),
        'inter': finite(img.dataobj.inter),
        'spaceUnits': space,
        'timeUnits': time,
        'description': hdr['descrip'].item().decode('utf-8', 'replace'),
        'intentCode': int(hdr['intent_code']),
        'intentName': hdr['intent_name'].item().decode('utf-8', 'replace'),
        'calMin': finite(hdr['cal_min']),
        'calMax': finite(hdr['cal_max']),
        'voxOffset': int(stored['vox_offset']),
    }


def oblique(scale, offset, flip=False):
    """A rotation of 20 degrees about x then 10 about z, times scale; a flip of x gives det < 0."""
    ax, az = math.radians(20), math.radians(10)
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = rz @ rx @ np.diag(scale) @ np.diag([-1 if flip else 1, 1, 1])
    m[:3, 3] = offset
    return m


def make(folder):
    rng = np.random.default_rng(7)
    made = []

    def save(img, name):
        path = os.path.join(folder, name)
        img.to_filename(path)
        made.append(path)

    shape = (7, 6, 5)
    aff = oblique([3.25, 3.25, 3.6], [101.5, -98.25, 40.0], flip=True)
    # int16 on disk from float data: nibabel chooses its own scl_slope/scl_inter.
    floats = rng.uniform(-4096, 4094, shape)
    img = nib.Nifti1Image(floats, aff)
    img.set_data_dtype(np.int16)
    save(img, 'n1-scaled-int16.nii')
    img = nib.Nifti1Image(rng.normal(size=shape).astype(np.float32), aff)
    img.set_qform(oblique([1, 2, 3], [1, 2, 3]), code=1)
    img.set_sform(aff, code=2)
    img.header.set_xyzt_units('mm', 'msec')
    img.header['descrip'] = b'made by nibabel'
    save(img, 'n1-float32.nii.gz')
    for dtype in ('uint8', 'int8', 'uint16', 'int32', 'uint32', 'float64'):
        info = np.iinfo(dtype) if np.dtype(dtype).kind in 'iu' else np.finfo(dtype)
        data = rng.uniform(max(info.min, -1e6), min(info.max, 1e6), shape).astype(dtype)
        data.flat[0], data.flat[1] = max(info.min, -1e300), min(info.max, 1e300)
        save(nib.Nifti1Image(data, aff), f'n1-{dtype}.nii')
    img = nib.Nifti1Image(rng.integers(0, 4000, shape, dtype=np.int16), None)
    img.set_sform(None, code=0)
    img.set_qform(oblique([2, 2, 2.5], [-10, 20, 30]), code=1)
    save(img, 'n1-qform-only.nii')
    # A header passed in keeps its byte order but also its datatype, so set both.
    big = nib.Nifti1Header(endianness='>')
    big.set_data_dtype(np.int16)
    save(nib.Nifti1Image(rng.integers(-3000, 3000, shape, dtype=np.int16), aff, header=big), 'n1-big-endian-int16.nii')
    vol4 = nib.Nifti2Image(rng.integers(-10**6, 10**6, (4, 3, 2, 5), dtype=np.int32), aff)
    vol4.header.set_zooms((3.25, 3.25, 3.6, 2.5))
    vol4.header.set_xyzt_units('mm', 'sec')
    save(vol4, 'n2-int32-4d.nii')
    save(nib.Nifti2Image(rng.integers(0, 255, shape, dtype=np.uint8), aff), 'n2-uint8.nii.gz')
    big2 = nib.Nifti2Header(endianness='>')
    big2.set_data_dtype(np.float64)
    save(nib.Nifti2Image(rng.normal(size=shape), aff, header=big2), 'n2-big-endian-float64.nii.gz')
    return made


def main():
    request = json.load(sys.stdin)
    made = make(request['make']) if request.get('make') else []
    paths = made + request.get('describe', [])
    files = [describe(path, os.path.join(request['rawDir'], str(i))) for i, path in enumerate(paths)]
    json.dump({'made': made, 'files': files}, sys.stdout)


main()
