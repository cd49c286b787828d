"""Writes DICOM Segmentations as another tool would (pydicom, no Sarcoscope code) for
CT images given on the command line, and prints as JSON what each holds: per image plane
(in the order of its source SOP Instance UID, else its position) the pixels of each
tissue and the mean HU of the muscle, so a test can hold Sarcoscope's import and
measurement against them.

The "reader's" tissues are cut from the CT by HU (muscle -29..150, fat -190..-30; fat in
the left half of the image counted as SAT, in the right half as VAT; IMAT a band of
rows), only so that every tissue has pixels: the test is about reading the file.

Files written to OUT:
- binary.dcm: BINARY, every CT image given, frames naming their source image; segments
  "Skeletal muscle" (SCT 91727004), "Segment_2" (no telling name: the test maps it to
  IMAT), "Visceral adipose tissue" (by name), "Subcutaneous" (SCT 71966008), "Liver"
  (left out by the test's `*=ignore`).
- fractional.dcm: FRACTIONAL (maximum 255), the first CT image, placed by position only;
  pixels of value 100 (below half) around the tissues, which must not count.
- unknown.dcm: one segment "Segment_9" and nothing else.

Usage: "$SARCOSCOPE_PYTHON" tests/write_seg.py OUT CT_FILE...
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SEG = "1.2.840.10008.5.1.4.1.1.66.4"
out, paths = sys.argv[1], sys.argv[2:]
cts = [pydicom.dcmread(p) for p in paths]


def tissues(ct):
    hu = ct.pixel_array.astype(np.float64) * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    rows, columns = hu.shape
    muscle = (hu >= -29) & (hu <= 150)
    fat = (hu >= -190) & (hu <= -30)
    left = np.zeros_like(fat)
    left[:, : columns // 2] = True
    band = np.zeros_like(fat)
    band[rows // 2 : rows // 2 + 20, :] = True
    imat = fat & band
    fat = fat & ~band
    return {"muscle": muscle & ~band, "imat": imat, "vat": fat & ~left, "sat": fat & left}


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def segment(number, label, type_code):
    item = Dataset()
    item.SegmentNumber = number
    item.SegmentLabel = label
    item.SegmentAlgorithmType = "MANUAL"
    item.SegmentedPropertyCategoryCodeSequence = Sequence([code("85756007", "SCT", "Tissue")])
    item.SegmentedPropertyTypeCodeSequence = Sequence([type_code])
    return item


def seg(kind, segments, frames, first):
    """frames: (segment number, source CT or None, plane array) in file order."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SEG
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    ds.SOPClassUID, ds.SOPInstanceUID = SEG, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = first.StudyInstanceUID, generate_uid()
    ds.FrameOfReferenceUID = first.FrameOfReferenceUID
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "SEG", 300, 1
    ds.ContentLabel, ds.ContentCreatorName = "READER", "Reader^One"
    ds.SegmentationType = kind
    ds.Rows, ds.Columns = first.Rows, first.Columns
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = len(frames)
    ds.SegmentSequence = Sequence(segments)
    measures = Dataset()
    measures.PixelSpacing = first.PixelSpacing
    measures.SliceThickness = first.SliceThickness
    orientation = Dataset()
    orientation.ImageOrientationPatient = first.ImageOrientationPatient
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for number, source, _ in frames:
        item = Dataset()
        ident = Dataset()
        ident.ReferencedSegmentNumber = number
        item.SegmentIdentificationSequence = Sequence([ident])
        plane = Dataset()
        plane.ImagePositionPatient = source[1].ImagePositionPatient
        item.PlanePositionSequence = Sequence([plane])
        if source[0]:
            image = Dataset()
            image.ReferencedSOPClassUID = source[1].SOPClassUID
            image.ReferencedSOPInstanceUID = source[1].SOPInstanceUID
            derivation = Dataset()
            derivation.SourceImageSequence = Sequence([image])
            item.DerivationImageSequence = Sequence([derivation])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    stack = np.stack([f[2] for f in frames])
    if kind == "BINARY":
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 1, 0
        packed = pack_bits(stack.astype(np.uint8))
        ds.PixelData = packed + (b"\0" if len(packed) % 2 else b"")
    else:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        ds.MaximumFractionalValue, ds.SegmentationFractionalType = 255, "PROBABILITY"
        ds.PixelData = stack.astype(np.uint8).tobytes()
    return ds


def counts(masks, source):
    spacing = [float(v) for v in source.PixelSpacing]
    hu = source.pixel_array.astype(np.float64) * float(source.RescaleSlope) + float(source.RescaleIntercept)
    return {
        "source": source.SOPInstanceUID,
        "z_mm": float(source.ImagePositionPatient[2]),
        "pixel_mm2": spacing[0] * spacing[1],
        "pixels": {t: int(m.sum()) for t, m in masks.items()},
        "muscle_hu": float(hu[masks["muscle"]].mean()),
    }


order = ["muscle", "imat", "vat", "sat"]
segments = [
    segment(1, "Skeletal muscle", code("91727004", "SCT", "Muscle")),
    segment(2, "Segment_2", code("85756007", "SCT", "Tissue")),
    segment(3, "Visceral adipose tissue", code("55603005", "SCT", "Fat")),
    segment(4, "Subcutaneous", code("71966008", "SCT", "Subcutaneous tissue")),
    segment(5, "Liver", code("10200004", "SCT", "Liver")),
]
frames, planes = [], []
for ct in cts:
    masks = tissues(ct)
    for number, name in enumerate(order, start=1):
        frames.append((number, (True, ct), masks[name]))
    liver = np.zeros((ct.Rows, ct.Columns), dtype=bool)
    liver[:10, :10] = True  # a segment the reader drew that is no body-composition tissue
    frames.append((5, (True, ct), liver))
    planes.append(counts(masks, ct))
seg("BINARY", segments, frames, cts[0]).save_as(f"{out}/binary.dcm", enforce_file_format=True)
binary = sorted(planes, key=lambda p: p["source"])

first = cts[0]
masks = tissues(first)
named = [segment(n, name, code("85756007", "SCT", "Tissue")) for n, name in enumerate(order, start=1)]
frames = []
for number, name in enumerate(order, start=1):
    values = np.where(masks[name], 255, 0)
    # A rim of low probability around each tissue: in neither reading.
    rim = np.roll(masks[name], 1, axis=1) & ~masks[name]
    values = np.where(rim, 100, values)
    frames.append((number, (False, first), values))
seg("FRACTIONAL", named, frames, first).save_as(f"{out}/fractional.dcm", enforce_file_format=True)

lonely = [segment(1, "Segment_9", code("85756007", "SCT", "Tissue"))]
seg("BINARY", lonely, [(1, (True, first), masks["muscle"])], first).save_as(
    f"{out}/unknown.dcm", enforce_file_format=True
)
print(json.dumps({"binary": binary, "fractional": [counts(masks, first)]}))
