// @pacsflow/imaging: the medical data model of pacsflow (DICOM index, grouping, selection, NIfTI, geometry, conversion).
import './errors.js'

export type { ComplexComponent, DicomFrame, DicomInstance, Orientation, Vec3 } from './dicom/types.js'
