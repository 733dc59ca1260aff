"""The notebooks run top to bottom on data_samples/, and are committed without outputs.

Each is executed with papermill in a kernel that runs this interpreter (a
kernel spec written to a temporary JUPYTER_PATH, so neither a user's own
``python3`` kernel nor the PATH can pick another Python), with the
repository as working directory.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import ipykernel  # noqa: E402,F401  (the kernel the notebooks run in)
import nbformat  # noqa: E402
import papermill  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_quickstart_audit.ipynb", "02_union_brief.ipynb", "03_regulator_batch.ipynb"]
TIMEOUT = 120  # seconds per cell; the brief's budget is < 60 s per notebook on an idle machine


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A ``python3`` kernel spec for this interpreter, first on JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (gigaudit tests)", "language": "python"}), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(root))
    yield root
    mp.undo()


def _run(name: str, dest: Path, **parameters):
    return papermill.execute_notebook(
        str(NOTEBOOKS / name), str(dest / name), parameters=parameters, kernel_name="python3",
        cwd=str(ROOT), progress_bar=False, request_save_on_cell_execute=False,
        execution_timeout=TIMEOUT)


def _errors(nb) -> list[str]:
    return [o.get("ename", "") + ": " + o.get("evalue", "") for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, (name, c.source[:60])
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1


def test_01_quickstart(kernel_env, tmp_path):
    import audit

    nb = _run(NAMES[0], tmp_path)
    assert not _errors(nb)
    shown = json.dumps([c.get("outputs") for c in nb.cells if c.cell_type == "code"], ensure_ascii=False)
    assert "art12.minimum_wage" in shown and "minimum_wage_status" in shown  # findings and the worker's weeks


def test_02_union_brief(kernel_env, tmp_path):
    nb = _run(NAMES[1], tmp_path, key="test-key")
    assert not _errors(nb)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 7  # every chart cell drew a figure
    tables = json.dumps([c.get("outputs") for c in nb.cells[-3:]], ensure_ascii=False)
    assert "w_" in tables and "W0" not in tables  # the case list is pseudonymised


def test_03_regulator_batch(kernel_env, tmp_path):
    out = tmp_path / "batch"
    nb = _run(NAMES[2], tmp_path, manifest=str(ROOT / "data_samples" / "batch_manifest.toml"),
              out=str(out), jobs=2, lang="en")
    assert not _errors(nb)
    assert (out / "summary.csv").is_file() and (out / "summary.html").is_file()
    outputs = json.dumps([c.get("outputs") for c in nb.cells], ensure_ascii=False)
    assert "broken-platform" in outputs and "missing required column(s) delivered_at" in outputs
    for p in ("kuaisong-shijiazhuang", "jisong-baoding", "xingche-tangshan"):
        assert (out / p / "summary.json").is_file()
