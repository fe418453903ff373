// Dataset builders for the synthetic dose data generator: the patient/study/series/equipment modules
// shared by every object (PS3.3 C.7), minimal image modules per modality, and SR documents (PS3.3
// C.17) whose root is the dose report container of TID 10001/10011 (X-ray) or TID 10021 (RRDSR). No I/O.

import { createDataset, setValue, type Dataset } from '../dicom/index.js';

/** Storage SOP classes the generator writes (PS3.4 Annex B.5). */
export const StorageClass = {
  ct: '1.2.840.10008.5.1.4.1.1.2',
  cr: '1.2.840.10008.5.1.4.1.1.1',
  dxPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  mgPresentation: '1.2.840.10008.5.1.4.1.1.1.2',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
  xa: '1.2.840.10008.5.1.4.1.1.12.1',
  rf: '1.2.840.10008.5.1.4.1.1.12.2',
  nm: '1.2.840.10008.5.1.4.1.1.20',
  pet: '1.2.840.10008.5.1.4.1.1.128',
  enhancedSr: '1.2.840.10008.5.1.4.1.1.88.22',
  comprehensiveSr: '1.2.840.10008.5.1.4.1.1.88.33',
  xrayDoseSr: '1.2.840.10008.5.1.4.1.1.88.67',
  radiopharmaceuticalDoseSr: '1.2.840.10008.5.1.4.1.1.88.68',
} as const;

export interface StudyContent {
  readonly studyInstanceUid: string;
  readonly characterSet: string;
  readonly patientName: string;
  readonly patientId: string;
  readonly patientBirthDate: string;
  readonly patientSex: string;
  readonly accessionNumber: string;
  readonly studyId: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly studyDescription: string;
  readonly stationName: string;
  readonly institutionName: string;
  readonly manufacturer: string;
  readonly manufacturerModelName: string;
  readonly deviceSerialNumber: string;
  readonly deviceObserverUid: string;
}

export interface SeriesContent {
  readonly seriesInstanceUid: string;
  readonly seriesNumber: number;
  readonly modality: string;
  /** '' writes an empty SeriesDescription (the element is present, zero length). */
  readonly seriesDescription: string;
  readonly seriesTime: string;
  readonly frameOfReferenceUid: string;
}

export interface InstanceContent {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly instanceNumber: number;
  readonly contentTime: string;
}

/** A coded entry (PS3.3 Table 8.8-1, Code Sequence Macro). */
export function codeItem(value: string, scheme: string, meaning: string): Dataset {
  const c = createDataset();
  setValue(c, 'CodeValue', value);
  setValue(c, 'CodingSchemeDesignator', scheme);
  setValue(c, 'CodeMeaning', meaning);
  return c;
}

/** SOP Common, Patient, General Study, General Series, General Equipment and General Image basics. */
export function commonModules(study: StudyContent, series: SeriesContent, instance: InstanceContent): Dataset {
  const ds = createDataset();
  if (study.characterSet !== '') setValue(ds, 'SpecificCharacterSet', study.characterSet);
  setValue(ds, 'InstanceCreationDate', study.studyDate);
  setValue(ds, 'InstanceCreationTime', instance.contentTime);
  setValue(ds, 'SOPClassUID', instance.sopClassUid);
  setValue(ds, 'SOPInstanceUID', instance.sopInstanceUid);
  setValue(ds, 'StudyDate', study.studyDate);
  setValue(ds, 'SeriesDate', study.studyDate);
  setValue(ds, 'ContentDate', study.studyDate);
  setValue(ds, 'StudyTime', study.studyTime);
  setValue(ds, 'SeriesTime', series.seriesTime);
  setValue(ds, 'ContentTime', instance.contentTime);
  setValue(ds, 'AccessionNumber', study.accessionNumber);
  setValue(ds, 'Modality', series.modality);
  setValue(ds, 'Manufacturer', study.manufacturer);
  setValue(ds, 'InstitutionName', study.institutionName);
  setValue(ds, 'ReferringPhysicianName', '');
  setValue(ds, 'StationName', study.stationName);
  setValue(ds, 'StudyDescription', study.studyDescription);
  setValue(ds, 'SeriesDescription', series.seriesDescription);
  setValue(ds, 'ManufacturerModelName', study.manufacturerModelName);
  setValue(ds, 'PatientName', study.patientName);
  setValue(ds, 'PatientID', study.patientId);
  setValue(ds, 'PatientBirthDate', study.patientBirthDate);
  setValue(ds, 'PatientSex', study.patientSex);
  setValue(ds, 'DeviceSerialNumber', study.deviceSerialNumber);
  setValue(ds, 'SoftwareVersions', 'SYNTHETIC 1.0');
  setValue(ds, 'StudyInstanceUID', study.studyInstanceUid);
  setValue(ds, 'SeriesInstanceUID', series.seriesInstanceUid);
  setValue(ds, 'StudyID', study.studyId);
  setValue(ds, 'SeriesNumber', series.seriesNumber);
  setValue(ds, 'InstanceNumber', instance.instanceNumber);
  return ds;
}

/** Image Pixel module (PS3.3 C.7.6.3): a tiny MONOCHROME2 16-bit image whose pixels follow from `fill`. */
function setPixels(ds: Dataset, rows: number, columns: number, bitsStored: number, fill: number): void {
  setValue(ds, 'SamplesPerPixel', 1);
  setValue(ds, 'PhotometricInterpretation', 'MONOCHROME2');
  setValue(ds, 'Rows', rows);
  setValue(ds, 'Columns', columns);
  setValue(ds, 'BitsAllocated', 16);
  setValue(ds, 'BitsStored', bitsStored);
  setValue(ds, 'HighBit', bitsStored - 1);
  setValue(ds, 'PixelRepresentation', 0);
  const pixels = Buffer.alloc(rows * columns * 2);
  const max = (1 << bitsStored) - 1;
  for (let i = 0; i < rows * columns; i++) pixels.writeUInt16LE((fill * 31 + i * 97) % max, i * 2);
  setValue(ds, 'PixelData', pixels, 'OW');
}

export interface ImageOptions {
  readonly rows: number;
  readonly columns: number;
  /** 1-based position in the series (image position, laterality, view). */
  readonly index: number;
}

/** CT Image (PS3.3 A.3): General Image, Image Plane, Image Pixel, CT Image modules. */
export function addCtImage(ds: Dataset, o: ImageOptions, frameOfReferenceUid: string): void {
  setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
  setValue(ds, 'AcquisitionNumber', 1);
  setValue(ds, 'KVP', 120);
  setValue(ds, 'SliceThickness', 5);
  setValue(ds, 'PatientPosition', 'HFS');
  setValue(ds, 'FrameOfReferenceUID', frameOfReferenceUid);
  setValue(ds, 'PositionReferenceIndicator', '');
  setValue(ds, 'ImagePositionPatient', [-100, -100, -5 * o.index]);
  setValue(ds, 'ImageOrientationPatient', [1, 0, 0, 0, 1, 0]);
  setValue(ds, 'PixelSpacing', [0.5, 0.5]);
  setPixels(ds, o.rows, o.columns, 12, o.index);
  setValue(ds, 'RescaleIntercept', -1024);
  setValue(ds, 'RescaleSlope', 1);
}

/** Secondary Capture Image (PS3.3 A.8.1): SC Equipment and Image Pixel; a dose screen has DERIVED type. */
export function addSecondaryCapture(ds: Dataset, o: ImageOptions): void {
  setValue(ds, 'ImageType', ['DERIVED', 'SECONDARY', 'OTHER']);
  setValue(ds, 'ConversionType', 'WSD');
  setValue(ds, 'PatientOrientation', '');
  setValue(ds, 'BurnedInAnnotation', 'YES');
  setPixels(ds, o.rows, o.columns, 8, o.index);
}

const VIEWS = [
  { laterality: 'R', view: ['R-10242', 'cranio-caudal'] },
  { laterality: 'L', view: ['R-10242', 'cranio-caudal'] },
  { laterality: 'R', view: ['R-10226', 'medio-lateral oblique'] },
  { laterality: 'L', view: ['R-10226', 'medio-lateral oblique'] },
] as const;

/** DX / MG / CR images "for presentation" (PS3.3 A.26, A.27, A.2): the DX Image module basics. */
export function addProjectionImage(ds: Dataset, o: ImageOptions, kind: 'MG' | 'DX' | 'CR'): void {
  if (kind === 'CR') {
    setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY']);
    setValue(ds, 'BodyPartExamined', 'CHEST');
    setValue(ds, 'ViewPosition', o.index % 2 === 1 ? 'PA' : 'LL');
    setValue(ds, 'PatientOrientation', '');
    setPixels(ds, o.rows, o.columns, 12, o.index);
    return;
  }
  setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY']);
  setValue(ds, 'PresentationIntentType', 'FOR PRESENTATION');
  setValue(ds, 'BurnedInAnnotation', 'NO');
  setValue(ds, 'KVP', kind === 'MG' ? 29 : 81);
  setValue(ds, 'PixelIntensityRelationship', 'LOG');
  setValue(ds, 'PixelIntensityRelationshipSign', 1, 'SS');
  setValue(ds, 'RescaleIntercept', 0);
  setValue(ds, 'RescaleSlope', 1);
  setValue(ds, 'RescaleType', 'US');
  setValue(ds, 'LossyImageCompression', '00');
  if (kind === 'MG') {
    const v = VIEWS[(o.index - 1) % VIEWS.length]!;
    setValue(ds, 'BodyPartExamined', 'BREAST');
    setValue(ds, 'ImageLaterality', v.laterality);
    setValue(ds, 'PatientOrientation', v.laterality === 'R' ? ['P', 'L'] : ['A', 'R']);
    setValue(ds, 'ViewCodeSequence', [codeItem(v.view[0], 'SRT', v.view[1])]);
  } else {
    setValue(ds, 'BodyPartExamined', 'CHEST');
    setValue(ds, 'ImageLaterality', 'U');
    setValue(ds, 'PatientOrientation', ['L', 'F']);
    setValue(ds, 'ViewPosition', 'PA');
  }
  setPixels(ds, o.rows, o.columns, 12, o.index);
}

/** Single-frame XA or RF image (PS3.3 A.14, A.16): X-Ray Image and Acquisition basics. */
export function addXrayAngioImage(ds: Dataset, o: ImageOptions): void {
  setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY', 'SINGLE PLANE']);
  setValue(ds, 'KVP', 70);
  setValue(ds, 'RadiationSetting', 'GR');
  setValue(ds, 'PixelIntensityRelationship', 'LIN');
  setValue(ds, 'PatientOrientation', '');
  setPixels(ds, o.rows, o.columns, 10, o.index);
}

/** NM Image (PS3.3 A.5), one static frame. */
export function addNmImage(ds: Dataset, o: ImageOptions): void {
  setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY', 'STATIC', 'EMISSION']);
  setValue(ds, 'PatientOrientation', '');
  setValue(ds, 'NumberOfFrames', 1);
  setValue(ds, 'FrameIncrementPointer', [0x00540010], 'AT');
  setValue(ds, 'EnergyWindowVector', [1]);
  setValue(ds, 'NumberOfEnergyWindows', 1);
  setValue(ds, 'DetectorVector', [1]);
  setValue(ds, 'NumberOfDetectors', 1);
  setPixels(ds, o.rows, o.columns, 16, o.index);
}

/** PET Image (PS3.3 A.21): PET Series and PET Image basics. */
export function addPetImage(ds: Dataset, o: ImageOptions, frameOfReferenceUid: string): void {
  setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY']);
  setValue(ds, 'SeriesType', ['STATIC', 'IMAGE']);
  setValue(ds, 'Units', 'BQML');
  setValue(ds, 'CountsSource', 'EMISSION');
  setValue(ds, 'CorrectedImage', ['DECY', 'ATTN']);
  setValue(ds, 'DecayCorrection', 'START');
  setValue(ds, 'RandomsCorrectionMethod', 'NONE');
  setValue(ds, 'CollimatorType', 'NONE');
  setValue(ds, 'NumberOfSlices', 8);
  setValue(ds, 'ImageIndex', o.index);
  setValue(ds, 'FrameOfReferenceUID', frameOfReferenceUid);
  setValue(ds, 'PositionReferenceIndicator', '');
  setValue(ds, 'ImagePositionPatient', [-100, -100, -4 * o.index]);
  setValue(ds, 'ImageOrientationPatient', [1, 0, 0, 0, 1, 0]);
  setValue(ds, 'PixelSpacing', [4, 4]);
  setValue(ds, 'SliceThickness', 4);
  setPixels(ds, o.rows, o.columns, 16, o.index);
  setValue(ds, 'RescaleIntercept', 0);
  setValue(ds, 'RescaleSlope', 1);
}

// ---- SR documents -----------------------------------------------------------------------------------

/** Which SR document to write and what its root says. */
export type SrContent =
  | { readonly type: 'xray-dose'; readonly procedure: 'CT' | 'MG' | 'DX' | 'FL'; readonly totals: readonly number[] }
  | { readonly type: 'radiopharmaceutical-dose'; readonly agent: 'F18-FDG' | 'Tc99m'; readonly activityMBq: number }
  | { readonly type: 'imaging-report'; readonly text: string };

function contentItem(relationship: string, valueType: string, concept: Dataset): Dataset {
  const item = createDataset();
  setValue(item, 'RelationshipType', relationship);
  setValue(item, 'ValueType', valueType);
  setValue(item, 'ConceptNameCodeSequence', [concept]);
  return item;
}

function codeContent(relationship: string, concept: Dataset, value: Dataset): Dataset {
  const item = contentItem(relationship, 'CODE', concept);
  setValue(item, 'ConceptCodeSequence', [value]);
  return item;
}

function numContent(relationship: string, concept: Dataset, value: number, unit: Dataset): Dataset {
  const item = contentItem(relationship, 'NUM', concept);
  const measured = createDataset();
  setValue(measured, 'MeasurementUnitsCodeSequence', [unit]);
  setValue(measured, 'NumericValue', value);
  setValue(item, 'MeasuredValueSequence', [measured]);
  return item;
}

function uidContent(relationship: string, concept: Dataset, uid: string): Dataset {
  const item = contentItem(relationship, 'UIDREF', concept);
  setValue(item, 'UID', uid);
  return item;
}

function textContent(relationship: string, concept: Dataset, text: string): Dataset {
  const item = contentItem(relationship, 'TEXT', concept);
  setValue(item, 'TextValue', text);
  return item;
}

function containerContent(relationship: string, concept: Dataset, children: Dataset[]): Dataset {
  const item = contentItem(relationship, 'CONTAINER', concept);
  setValue(item, 'ContinuityOfContent', 'SEPARATE');
  setValue(item, 'ContentSequence', children);
  return item;
}

const PROCEDURE_CODE = {
  CT: codeItem('P5-08000', 'SRT', 'Computed Tomography X-Ray'),
  MG: codeItem('P5-40010', 'SRT', 'Mammography'),
  DX: codeItem('113704', 'DCM', 'Projection X-Ray'),
  FL: codeItem('113704', 'DCM', 'Projection X-Ray'),
} as const;

/**
 * The SR Document Series/General/Content modules (PS3.3 C.17.1–C.17.3) of an SR instance.
 * X-ray dose: root 113701 "X-Ray Radiation Dose Report" (TID 10001, 10011 for CT) with procedure,
 * observer context and accumulated totals; RRDSR: root 113500 (TID 10021); report: TID 2000 root.
 */
export function addSrDocument(ds: Dataset, study: StudyContent, content: SrContent): void {
  setValue(ds, 'ReferencedPerformedProcedureStepSequence', []);
  setValue(ds, 'PerformedProcedureCodeSequence', []);
  setValue(ds, 'CompletionFlag', 'COMPLETE');
  setValue(ds, 'VerificationFlag', 'UNVERIFIED');
  setValue(ds, 'ValueType', 'CONTAINER');
  setValue(ds, 'ContinuityOfContent', 'SEPARATE');
  const template = createDataset();
  setValue(template, 'MappingResource', 'DCMR');
  const observer = [
    codeContent('HAS OBS CONTEXT', codeItem('121005', 'DCM', 'Observer Type'), codeItem('121007', 'DCM', 'Device')),
    uidContent('HAS OBS CONTEXT', codeItem('121012', 'DCM', 'Device Observer UID'), study.deviceObserverUid),
    textContent('HAS OBS CONTEXT', codeItem('121013', 'DCM', 'Device Observer Name'), study.stationName || 'SYNTHETIC'),
  ];
  switch (content.type) {
    case 'xray-dose': {
      setValue(ds, 'ConceptNameCodeSequence', [codeItem('113701', 'DCM', 'X-Ray Radiation Dose Report')]);
      setValue(template, 'TemplateIdentifier', content.procedure === 'CT' ? '10011' : '10001');
      const [a = 0, b = 0] = content.totals;
      const totals = content.procedure === 'CT'
        ? containerContent('CONTAINS', codeItem('113811', 'DCM', 'CT Accumulated Dose Data'), [
            numContent('CONTAINS', codeItem('113812', 'DCM', 'Total Number of Irradiation Events'), Math.max(1, Math.round(a)), codeItem('{events}', 'UCUM', 'events')),
            numContent('CONTAINS', codeItem('113813', 'DCM', 'CT Dose Length Product Total'), b, codeItem('mGy.cm', 'UCUM', 'mGy.cm')),
          ])
        : containerContent('CONTAINS', codeItem('113702', 'DCM', 'Accumulated X-Ray Dose Data'), [
            numContent('CONTAINS', codeItem('113725', 'DCM', 'Dose (RP) Total'), a, codeItem('Gy', 'UCUM', 'Gy')),
            numContent('CONTAINS', codeItem('113722', 'DCM', 'Dose Area Product Total'), b, codeItem('Gy.m2', 'UCUM', 'Gy.m2')),
          ]);
      setValue(ds, 'ContentSequence', [
        codeContent('HAS CONCEPT MOD', codeItem('121058', 'DCM', 'Procedure reported'), PROCEDURE_CODE[content.procedure]),
        ...observer,
        totals,
      ]);
      break;
    }
    case 'radiopharmaceutical-dose': {
      setValue(ds, 'ConceptNameCodeSequence', [codeItem('113500', 'DCM', 'Radiopharmaceutical Radiation Dose Report')]);
      setValue(template, 'TemplateIdentifier', '10021');
      const agent = content.agent === 'F18-FDG'
        ? codeItem('C-B1031', 'SRT', 'Fluorodeoxyglucose F^18^')
        : codeItem('C-163A8', 'SRT', 'Technetium Tc^99m^ medronate');
      setValue(ds, 'ContentSequence', [
        codeContent('HAS CONCEPT MOD', codeItem('121058', 'DCM', 'Procedure reported'), codeItem('44139-4', 'LN', content.agent === 'F18-FDG' ? 'PET study' : 'Nuclear medicine study')),
        ...observer,
        containerContent('CONTAINS', codeItem('113502', 'DCM', 'Radiopharmaceutical Administration'), [
          codeContent('CONTAINS', codeItem('F-61FDB', 'SRT', 'Radiopharmaceutical agent'), agent),
          numContent('CONTAINS', codeItem('113507', 'DCM', 'Administered activity'), content.activityMBq, codeItem('MBq', 'UCUM', 'MBq')),
        ]),
      ]);
      break;
    }
    case 'imaging-report': {
      setValue(ds, 'ConceptNameCodeSequence', [codeItem('18748-4', 'LN', 'Diagnostic Imaging Report')]);
      setValue(template, 'TemplateIdentifier', '2000');
      setValue(ds, 'ContentSequence', [
        containerContent('CONTAINS', codeItem('121070', 'DCM', 'Findings'), [
          textContent('CONTAINS', codeItem('121071', 'DCM', 'Finding'), content.text),
        ]),
      ]);
      break;
    }
  }
  setValue(ds, 'ContentTemplateSequence', [template]);
}
