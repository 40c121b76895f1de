"""The binary format of noisette's golden fixtures (tests/golden/*/*.bin),
read by tests/unit/golden.c:

    magic  8 bytes  b"NSGOLD1\\n"
    count  u32      number of arrays
    then per array:
      name_len u16, name (UTF-8, no NUL)
      ndim     u8,  dims u32 x ndim
      data     float32 x prod(dims)
All integers and floats little-endian.
"""
import struct

MAGIC = b"NSGOLD1\n"


def write_arrays(path, arrays):
    """arrays: list of (name, tensor or array-like of floats)."""
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(arrays)))
        for name, t in arrays:
            data = t.detach().cpu().float().contiguous() if hasattr(t, "detach") else t
            shape = list(data.shape)
            flat = data.reshape(-1).tolist()
            raw = name.encode()
            f.write(struct.pack("<H", len(raw)))
            f.write(raw)
            f.write(struct.pack("<B", len(shape)))
            for d in shape:
                f.write(struct.pack("<I", d))
            f.write(struct.pack("<%df" % len(flat), *flat))
