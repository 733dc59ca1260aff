"""Write large CSV files fast, byte for byte as ``DataFrame.to_csv`` writes them.

``findings.csv`` holds one row per worker-week and worker-day: about 2.7
million rows for ten million orders.  pandas formats each cell in Python
(about 13 µs a row); here every column becomes one Arrow string array, cells
that need quotes are quoted, the columns are joined element-wise in Arrow's
C++ kernels and the joined buffer is written in one call.  Only the floats
are formatted in Python (``"%.10g" % x``, the same call pandas makes with
``float_format="%.10g"``), so the bytes are the same as
``to_csv(index=False, float_format="%.10g", lineterminator="\\n")``; tests
compare the two.  A column of any other kind (dates, mixed objects) makes
the whole file go through pandas.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# A cell is quoted when it holds what csv.QUOTE_MINIMAL quotes.
_NEEDS_QUOTES = '[,"\r\n]'


def _text_field(arr):
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    need = pc.match_substring_regex(arr, _NEEDS_QUOTES)
    if pc.any(need).as_py():
        quote = pa.scalar('"', pa.large_string())
        quoted = pc.binary_join_element_wise(quote, pc.replace_substring(arr, '"', '""'), quote,
                                             pa.scalar("", pa.large_string()))
        arr = pc.if_else(need, quoted, arr)
    return arr


def _field(col: pd.Series):
    """One column as an Arrow array of CSV cells, or None if pandas must write it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = col.dtype.kind
    if kind == "f":
        x = col.to_numpy(dtype=float)
        cells = pa.array(["%.10g" % v for v in x.tolist()], type=pa.large_string())
        return pc.if_else(pa.array(np.isnan(x)), pa.scalar("", pa.large_string()), cells)
    if kind in "iu":
        return pc.cast(pa.array(col.to_numpy()), pa.large_string())
    if kind == "b":
        return pa.array(np.where(col.to_numpy(), "True", "False"), type=pa.large_string())
    if kind in "OU" or isinstance(col.dtype, pd.StringDtype):
        try:
            arr = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
                or pa.types.is_null(arr.type)):
            return None
        return _text_field(arr)
    return None


def write_csv(frame: pd.DataFrame, path: str | Path, *, append: bool = False) -> None:
    """Write ``frame`` as ``frame.to_csv(path, index=False, float_format="%.10g",
    lineterminator="\\n")`` would, faster for text and numbers.

    ``append`` adds the rows, without the header, to the end of the file (a
    large table written piece by piece)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fields = [_field(frame[c]) for c in frame.columns] if len(frame) and frame.shape[1] else [None]
    if any(f is None for f in fields) or any(not isinstance(c, str) for c in frame.columns):
        frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n",
                     header=not append, mode="a" if append else "w")
        return
    header = ",".join(str(x) for x in _text_field(pa.array(list(frame.columns), pa.large_string()))
                      .to_pylist()) + "\n"
    empty = pa.scalar("", pa.large_string())
    fields[-1] = pc.binary_join_element_wise(fields[-1], pa.scalar("\n", pa.large_string()), empty)
    lines = pc.binary_join_element_wise(*fields, pa.scalar(",", pa.large_string()))
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    # A large_string array is one data buffer plus int64 offsets: its rows,
    # already joined, are the slice between the first and the last offset.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    body = memoryview(lines.buffers()[2])[offsets[lines.offset]:offsets[lines.offset + len(lines)]]
    with open(path, "ab" if append else "wb") as fh:
        if not append:
            fh.write(header.encode("utf-8"))
        fh.write(body)
