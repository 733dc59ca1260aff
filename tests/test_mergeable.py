"""Platform checks with a map/merge split give the in-memory findings for any partitioning.

For every check whose module exposes ``partial``/``finish`` (``CheckSpec.split``),
the findings merged from the partials of P worker-hash partitions (P = 1, 2,
5, partials given in either order) must equal, value for value and dtype for
dtype, the check run on the whole logs: the chunked engine's bytes rest on it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit import load_logs
from audit.checks import CHECKS
from audit.engine import partition_logs
from audit.rules import thresholds

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "shijiazhuang"
SPLIT = [c for c in CHECKS if c.split is not None]


@pytest.fixture(scope="module")
def memory_logs():
    return load_logs(SAMPLE)


@pytest.fixture(scope="module", params=[1, 2, 5])
def parted(request, tmp_path_factory):
    return partition_logs(SAMPLE, out=tmp_path_factory.mktemp(f"p{request.param}"),
                          n_parts=request.param)


@pytest.fixture(scope="module")
def pieces(parted):
    return [parted.part(p) for p in range(parted.n_parts)]


def test_every_platform_check_is_mergeable():
    # issue #8: platform statistics merge exact partial aggregates
    assert [c.id for c in CHECKS if c.level in ("platform", "group") and not c.mergeable] == []


@pytest.mark.parametrize("spec", [c for c in SPLIT if c.mergeable], ids=lambda c: c.id)
def test_merged_partials_equal_memory(spec, memory_logs, parted, pieces):
    limits = thresholds()
    expected = spec.func(memory_logs, thresholds=limits, **spec.options)
    partials = [spec.partial(piece, thresholds=limits, **spec.options) for piece in pieces]
    meta = parted.meta_logs()
    for order in (partials, partials[::-1]):
        got = spec.finish(list(order), meta, thresholds=limits, **spec.options)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_exact=True)
