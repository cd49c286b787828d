"""Reads a DICOM Segmentation with pydicom (an independent reader) and prints what a
test needs as JSON: the frames unpacked to per-segment pixel counts, the segment labels,
the grid and the identifying fields. Usage: "$SARCOSCOPE_PYTHON" tests/read_seg.py FILE"""
import json
import sys

import numpy as np
import pydicom

ds = pydicom.dcmread(sys.argv[1])
frames = ds.pixel_array
if frames.ndim == 2:
    frames = frames[np.newaxis]
segments = {}
for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
    number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
    segments[number] = int(frames[i].sum())
refs = ds.get("ReferencedSeriesSequence")
print(json.dumps({
    "sop_class": str(ds.SOPClassUID),
    "modality": ds.Modality,
    "segmentation_type": ds.SegmentationType,
    "rows": int(ds.Rows),
    "columns": int(ds.Columns),
    "frames": int(ds.NumberOfFrames),
    "labels": [s.SegmentLabel for s in ds.SegmentSequence],
    "algorithm": [s.SegmentAlgorithmType for s in ds.SegmentSequence],
    "pixels": [segments[n] for n in sorted(segments)],
    "overlap": int((frames.sum(axis=0) > 1).sum()),
    "patient_name": str(ds.PatientName),
    "patient_id": ds.PatientID,
    "study_uid": ds.StudyInstanceUID,
    "referenced_series": [str(r.SeriesInstanceUID) for r in refs] if refs else [],
    "pixel_spacing": [float(v) for v in ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing],
}))
