"""screening.toml: read with tomllib, written with tomlkit (issue 12: a Windows path holding a
backslash used to write a file that no longer loaded)."""
import tomllib

import pytest

from tests.conftest import DATA
from triage.errors import InputError
from triage.screening.settings import load_settings, write_settings

CALIB = dict(threshold=0.2157, target_precision=0.95, precision=0.9535, recall=0.6833, f1=0.7961, n_pairs=120,
             n_same=60)


@pytest.mark.parametrize("pairs", [r"C:\Users\联络站\pairs.csv", r"D:\new\table\"quoted\".csv", "a\nb.csv"])
def test_any_pairs_path_is_written_so_that_the_file_loads(tmp_path, pairs):
    path = write_settings(tmp_path, CALIB, pairs)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["similarity"] == {**CALIB, "pairs": pairs}
    assert load_settings(tmp_path)["threshold"] == 0.2157


def test_an_existing_file_keeps_its_comments_and_other_tables(tmp_path):
    text = (DATA / "screening.toml").read_text(encoding="utf-8") + "\n[station]\nname = \"临港\"  # kept\n"
    (tmp_path / "screening.toml").write_text(text, encoding="utf-8")
    write_settings(tmp_path, {**CALIB, "threshold": 0.3}, r"C:\pairs.csv")
    out = (tmp_path / "screening.toml").read_text(encoding="utf-8")
    assert out.splitlines()[:8] == text.splitlines()[:8]  # the comment header
    assert 'name = "临港"  # kept' in out
    raw = tomllib.loads(out)
    assert raw["similarity"]["threshold"] == 0.3 and raw["similarity"]["pairs"] == r"C:\pairs.csv"
    assert raw["station"] == {"name": "临港"}


def test_a_new_file_gets_the_explaining_header(tmp_path):
    write_settings(tmp_path, CALIB, "pairs.csv")
    out = (tmp_path / "screening.toml").read_text(encoding="utf-8")
    assert out.startswith("# Screening settings / 每月筛选参数\n")


def test_a_broken_existing_file_is_refused_not_overwritten(tmp_path):
    (tmp_path / "screening.toml").write_text("[similarity\nthreshold = ", encoding="utf-8")
    with pytest.raises(InputError, match="screening.toml is not valid UTF-8 TOML"):
        write_settings(tmp_path, CALIB, "pairs.csv")
    assert (tmp_path / "screening.toml").read_text(encoding="utf-8") == "[similarity\nthreshold = "
