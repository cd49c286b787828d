#!/usr/bin/env python3
"""The native decode benchmark (benches/decode.rs), measured with the reference decoder:
pydicom 3.0.2 with pylibjpeg (libjpeg, openjpeg, rle) and numpy, as used to make
data/dicom/expected.json. scripts/bench installs these into a venv and runs this.

Every file is read into memory first; each measurement repeats for at least MIN_RUNS
runs and until its time budget is spent ($SARCOSCOPE_BENCH_SECONDS, default 2 s), and
the best run is reported, as the Rust bench does.

(a) The 112-slice CT series: headers (dcmread and the header fields a series needs),
    series build (group by series, sort along the slice normal), volume decode
    (dcmread + pixel_array + apply_modality_lut per file, into an int16 HU volume, as
    volume::load does), and the three together.
(b) The shared corpus (files listed in data/dicom/expected.json): every file pydicom
    decodes, grouped by transfer syntax: dcmread + pixel_array + apply_modality_lut.
    Files it cannot decode are listed and not timed.

Usage: bench_reference.py [shared-dir]   (default: $SARCOSCOPE_SHARED, else ../shared)
"""

import io
import json
import os
import sys
import time
import warnings
from importlib import metadata
from math import floor, log10
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

MIN_RUNS = 5
SERIES_DIR = "data/ct/totalseg-example/series-dicom"
CORPUS_DIR = "data/dicom"

# The names src/dicom/syntax.rs gives, so that rows line up with the Rust tables.
SYNTAX_NAMES = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.5": "RLE Lossless",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline (8-bit)",
    "1.2.840.10008.1.2.4.51": "JPEG Extended (12-bit)",
    "1.2.840.10008.1.2.4.53": "JPEG Spectral Selection (process 6/8)",
    "1.2.840.10008.1.2.4.55": "JPEG Full Progression (process 10/12)",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless (process 14)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.4.201": "HTJ2K Lossless",
    "1.2.840.10008.1.2.4.202": "HTJ2K Lossless RPCL",
    "1.2.840.10008.1.2.4.203": "HTJ2K",
}


def budget():
    try:
        seconds = float(os.environ.get("SARCOSCOPE_BENCH_SECONDS", "2"))
    except ValueError:
        seconds = 2.0
    return seconds if seconds >= 0 else 2.0


def measure(seconds, f):
    """Runs f at least MIN_RUNS times and until `seconds` are spent; (best, runs)."""
    start = time.perf_counter()
    best = float("inf")
    runs = 0
    while runs < MIN_RUNS or (time.perf_counter() - start < seconds and runs < 10_000):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        runs += 1
    return best, runs


def machine():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cpus} CPU(s) (nproc); {sys.platform} {os.uname().machine}"


def versions():
    names = ["pydicom", "numpy", "pylibjpeg", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (missing)")
    return f"Python {sys.version.split()[0]}, " + ", ".join(found)


def significant(x):
    """Three significant digits, without an exponent."""
    if x == 0 or x != x or x in (float("inf"), float("-inf")):
        return str(x)
    decimals = max(0, 2 - floor(log10(abs(x))))
    return f"{x:.{decimals}f}"


def print_table(title, per_second, rows):
    """rows: (what, files, mb or None, frames, seconds, runs or None)."""
    header = ["what", "files", "MB", "seconds", "MB/s", per_second, "runs"]
    cells = []
    for what, files, mb, frames, seconds, runs in rows:
        cells.append([
            what,
            str(files),
            "-" if mb is None else f"{mb:.3f}",
            significant(seconds),
            "-" if mb is None else significant(mb / seconds),
            significant(frames / seconds),
            "-" if not runs else str(runs),
        ])
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(row):
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("| " + " | ".join(padded) + " |")

    print()
    print(f"## {title}")
    print()
    line(header)
    print("|" + "|".join(["-" * (widths[0] + 2)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    for row in cells:
        line(row)


def read_dataset(data):
    return pydicom.dcmread(io.BytesIO(data), force=True)


def hu_of(ds):
    """The decoded pixels through the modality LUT (rescale), as pydicom gives them."""
    return apply_modality_lut(ds.pixel_array, ds)


def header(ds):
    """The header facts series building needs (pydicom converts elements on access)."""
    position = ds.get("ImagePositionPatient")
    orientation = ds.get("ImageOrientationPatient")
    return {
        "study": str(ds.get("StudyInstanceUID", "")),
        "series": str(ds.get("SeriesInstanceUID", "")),
        "sop": str(ds.get("SOPInstanceUID", "")),
        "modality": str(ds.get("Modality", "")),
        "image_type": list(ds.get("ImageType", [])),
        "rows": int(ds.get("Rows", 0)),
        "columns": int(ds.get("Columns", 0)),
        "frames": int(ds.get("NumberOfFrames", 1) or 1),
        "spacing": [float(v) for v in ds.get("PixelSpacing", [])],
        "thickness": ds.get("SliceThickness"),
        "slope": float(ds.get("RescaleSlope", 1) or 1),
        "intercept": float(ds.get("RescaleIntercept", 0) or 0),
        "position": None if position is None else [float(v) for v in position],
        "orientation": None if orientation is None else [float(v) for v in orientation],
        "patient": (str(ds.get("PatientSex", "")), str(ds.get("PatientAge", ""))),
    }


def build_series(headers):
    """Groups by study and series; sorts the slices along the slice normal."""
    groups = {}
    for index, h in enumerate(headers):
        groups.setdefault((h["study"], h["series"]), []).append(index)
    best = None
    for (_, _), members in groups.items():
        first = headers[members[0]]
        if first["modality"] != "CT" or first["orientation"] is None:
            continue
        o = np.array(first["orientation"])
        normal = np.cross(o[:3], o[3:])
        ordered = sorted(members, key=lambda i: float(np.dot(normal, headers[i]["position"])))
        if best is None or len(ordered) > len(best):
            best = ordered
    return best


def decode_volume(data, headers, order):
    first = headers[order[0]]
    volume = np.empty((len(order), first["rows"], first["columns"]), dtype=np.int16)
    for k, index in enumerate(order):
        hu = hu_of(read_dataset(data[index]))
        volume[k] = np.clip(np.rint(hu), -32767, 32767).astype(np.int16)
    return volume


def series_table(directory, seconds):
    paths = sorted(p for p in directory.iterdir() if p.suffix == ".dcm")
    data = [p.read_bytes() for p in paths]
    mb = sum(map(len, data)) / 1e6

    def headers():
        return [header(read_dataset(d)) for d in data]

    hs = headers()
    order = build_series(hs)
    slices = len(order)
    files = len(data)

    def all_three():
        h = headers()
        decode_volume(data, h, build_series(h))

    rows = []
    for what, size, f in [
        ("series: headers (dcmread + header fields)", mb, headers),
        ("series: build (group + sort along the normal)", None, lambda: build_series(hs)),
        ("series: volume decode (pixel_array + modality LUT)", mb, lambda: decode_volume(data, hs, order)),
        ("series: all three", mb, all_three),
    ]:
        best, runs = measure(seconds, f)
        rows.append((what, files, size, slices, best, runs))
    print_table("112-slice CT series, all in memory", "slices/s", rows)


def compact(names):
    """File names, with folders of many listed files shortened to folder/* (N files)."""

    def folder(name):
        return name.rsplit("/", 1)[0] if "/" in name else ""

    out, seen = [], set()
    for name in names:
        f = folder(name)
        count = sum(folder(n) == f for n in names)
        if count <= 10:
            out.append(name)
        elif f not in seen:
            out.append(f"{f}/* ({count} files)")
            seen.add(f)
    return ", ".join(out)


def corpus_table(directory, seconds):
    listing = json.loads((directory / "expected.json").read_text())
    groups = {}
    skipped = []
    for entry in listing["files"]:
        name = entry["file"]
        path = directory / name
        if not path.is_file():
            skipped.append(f"{name} (missing)")
            continue
        data = path.read_bytes()
        try:
            ds = read_dataset(data)
            uid = str(ds.file_meta.TransferSyntaxUID)
            hu_of(ds)
            frames = int(ds.get("NumberOfFrames", 1) or 1)
        except Exception as e:  # noqa: BLE001 - any failure means "cannot decode"
            skipped.append(f"{name} ({type(e).__name__})")
            continue
        groups.setdefault(uid, []).append((data, frames))

    timed = sum(len(files) for files in groups.values())
    print()
    print(f"corpus: {timed} files pydicom decodes are timed; {len(skipped)} are not: {compact(skipped)}")

    def decode_all(files):
        for data, _ in files:
            hu_of(read_dataset(data))

    rows = []
    total = 0.0
    for uid in sorted(groups):
        files = groups[uid]
        best, runs = measure(seconds, lambda: decode_all(files))
        total += best
        name = SYNTAX_NAMES.get(uid, "an unknown transfer syntax")
        mb = sum(len(d) for d, _ in files) / 1e6
        rows.append((f"{name} ({uid})", len(files), mb, sum(f for _, f in files), best, runs))
    everything = [f for files in groups.values() for f in files]
    rows.append((
        "all of the above (sum of the best runs)",
        len(everything),
        sum(len(d) for d, _ in everything) / 1e6,
        sum(f for _, f in everything),
        total,
        None,
    ))
    title = "corpus by transfer syntax: dcmread + pixel_array + apply_modality_lut"
    print_table(title, "frames/s", rows)


def main():
    if len(sys.argv) > 1:
        shared = Path(sys.argv[1])
    elif os.environ.get("SARCOSCOPE_SHARED"):
        shared = Path(os.environ["SARCOSCOPE_SHARED"])
    else:
        shared = Path(__file__).resolve().parent.parent.parent / "shared"
    seconds = budget()
    # Warnings about odd files (pydicom is lenient and says so) are not results.
    warnings.simplefilter("ignore")

    print("# Reference decoder throughput (scripts/bench_reference.py)")
    print()
    print(f"machine: {machine()}")
    print(f"decoder: {versions()}")
    print(f"each row: best of at least {MIN_RUNS} runs within {seconds:.1f} s; MB = 10^6 bytes of input files")
    series = shared / SERIES_DIR
    if series.is_dir():
        series_table(series, seconds)
    else:
        print(f"SKIPPED: the 112-slice series is not at {series}")
    corpus = shared / CORPUS_DIR
    if corpus.is_dir():
        corpus_table(corpus, seconds)
    else:
        print(f"SKIPPED: the DICOM corpus is not at {corpus}")


if __name__ == "__main__":
    main()
