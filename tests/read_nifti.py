"""An independent reading of a NIfTI-1 label map (numpy only, no Sarcoscope code): for
each slice along z, its position (mm, from the sform or an unrotated qform) and how many
voxels hold one of the wanted numbers. Prints JSON:
{"pixel_spacing": [row_mm, column_mm], "slices": [{"z_mm": z, "count": n}, ...]}, slices
from the most inferior up. Usage: read_nifti.py FILE NUMBER[,NUMBER...]"""
import gzip
import json
import struct
import sys

import numpy as np

path, wanted = sys.argv[1], [int(n) for n in sys.argv[2].split(",")]
raw = open(path, "rb").read()
if raw[:2] == b"\x1f\x8b":
    raw = gzip.decompress(raw)
nx, ny, nz = struct.unpack_from("<8h", raw, 40)[1:4]
datatype = struct.unpack_from("<h", raw, 70)[0]
offset = int(struct.unpack_from("<f", raw, 108)[0])
slope, intercept = struct.unpack_from("<2f", raw, 112)
dtype = {2: "u1", 4: "<i2", 8: "<i4", 16: "<f4", 64: "<f8", 256: "i1", 512: "<u2", 768: "<u4"}[datatype]
# NIfTI stores x fastest: in C order the array is (z, y, x).
data = np.frombuffer(raw, dtype=dtype, count=nx * ny * nz, offset=offset).reshape((nz, ny, nx))
if slope not in (0.0,) and np.isfinite(slope):
    data = data * slope + intercept
if struct.unpack_from("<h", raw, 254)[0] > 0:
    sx, sy, sz = (struct.unpack_from("<4f", raw, o) for o in (280, 296, 312))
    dx, dy, dz, z0 = abs(sx[0]), abs(sy[1]), sz[2], sz[3]
else:
    pixdim = struct.unpack_from("<8f", raw, 76)
    qfac = -1.0 if pixdim[0] < 0 else 1.0
    dx, dy, dz = pixdim[1], pixdim[2], qfac * pixdim[3]
    z0 = struct.unpack_from("<f", raw, 276)[0]
counts = np.isin(np.rint(data), wanted).sum(axis=(1, 2))
slices = sorted(({"z_mm": float(z0 + dz * k), "count": int(counts[k])} for k in range(nz)), key=lambda s: s["z_mm"])
print(json.dumps({"pixel_spacing": [float(dy), float(dx)], "slices": slices}))
