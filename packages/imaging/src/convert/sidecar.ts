// The BIDS-style JSON sidecar of a converted volume (BIDS 1.9 units: seconds, Tesla, MHz).
import type { DicomSeries, DicomVolume } from '../series/types.js'
import { version } from '../version.js'

/** Plain acquisition metadata, no patient identifiers. */
export type Sidecar = Readonly<Record<string, string | number | boolean | readonly (string | number)[]>>

export function bidsSidecar(series: DicomSeries, volume: DicomVolume): Sidecar {
  const first = series.instances.find((instance) => instance.path === volume.frames[0]?.path) ?? series.instances[0]
  const fields: Record<string, string | number | boolean | readonly (string | number)[] | undefined> = {
    Modality: series.modality,
    MagneticFieldStrength: first?.magneticFieldStrength,
    ImagingFrequency: first?.imagingFrequency,
    Manufacturer: series.manufacturer,
    ManufacturersModelName: first?.manufacturerModelName,
    SoftwareVersions: first?.softwareVersions,
    SeriesDescription: series.seriesDescription,
    ProtocolName: series.protocolName,
    SequenceName: series.sequenceName,
    ScanningSequence: first?.scanningSequence?.join('_'),
    MRAcquisitionType: series.mrAcquisitionType,
    SeriesNumber: series.seriesNumber,
    AcquisitionTime: first?.acquisitionTime,
    SeriesInstanceUID: series.seriesInstanceUid,
    ImageType: volume.imageType,
    ComplexComponent: volume.complexComponent,
    EchoNumber: volume.echoNumber,
    EchoTime: volume.echoTime === undefined ? undefined : volume.echoTime / 1000,
    RepetitionTime: first?.repetitionTime === undefined ? undefined : first.repetitionTime / 1000,
    FlipAngle: first?.flipAngle,
    SliceThickness: volume.sliceThickness,
    SpacingBetweenSlices: volume.sliceSpacing,
    ImageOrientationPatientDICOM: volume.orientation,
    ConversionSoftware: 'pacsflow',
    ConversionSoftwareVersion: version,
  }
  return Object.fromEntries(Object.entries(fields).filter((entry) => entry[1] !== undefined)) as Sidecar
}
