"""Version folders (format 2): every file and the card's decision fields checked before anything
is read, prediction without unpickling, the parity check between the packed scorer and
scikit-learn, and a CURRENT mark that can only name a version inside its models folder."""
from __future__ import annotations

import io
import json
import logging
import os
import pickle
import shutil

import joblib
import numpy as np
import pytest

from tests.conftest import MODELS, SAMPLE
from triage.errors import ModelError
from triage.store import folder as store
from triage.store import mark, versions
from triage.files.hashing import sha256_file
from triage.store.card import card_digest

TEXTS = ["从林农手里收的原木开不出收购发票", "园区门口路灯坏了三天了", "续贷下周到期，过桥资金利息太高", "请问食堂几点开饭", ""]


def copy_version(src, tmp_path, name="v"):
    return shutil.copytree(store.resolve_model_dir(src), tmp_path / name)


def rewrite_card(folder, change, *, redigest=True):
    card = json.loads((folder / "card.json").read_text("utf-8"))
    change(card)
    if redigest:
        card["files"] = {name: sha256_file(folder / name) for name in card["files"] if (folder / name).is_file()}
        card["digest"] = card_digest(card)
    (folder / "card.json").write_text(json.dumps(card, ensure_ascii=False), "utf-8")


def predictions(model, texts=TEXTS):
    return [p.to_dict() for p in model.predict(texts)]


# ---------------------------------------------------------------------------- the folder
def test_a_version_folder_holds_what_the_card_lists():
    folder = store.resolve_model_dir(MODELS)
    card = store.read_card(folder)
    assert card["format"] == 2 and card["engine"] == "packed"
    assert sorted(card["files"]) == sorted(store.FILES)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*store.FILES, "card.json"])
    assert card["files"] == {name: sha256_file(folder / name) for name in card["files"]}
    assert card["digest"] == card_digest(card)
    assert card["parity"]["max_difference"] <= card["parity"]["tolerance"] == 1e-6
    assert card["parity"]["n_texts"] == len(json.loads((folder / "parity.json").read_text("utf-8"))["texts"]) == 200
    with np.load(folder / "scorer.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


@pytest.mark.parametrize("name", ["scorer.npz", "scorer.json", "taxonomy.json", "segmenter.json", "parity.json",
                                  "pipelines.joblib"])
def test_a_changed_file_is_refused(tmp_path, name):
    folder = copy_version(MODELS, tmp_path)
    with open(folder / name, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match=f"v/{name} does not match its model card: expected SHA-256 "):
        store.load(folder)


def test_a_missing_file_is_refused_but_the_pipelines_may_be_left_out(shipped, tmp_path):
    folder = copy_version(MODELS, tmp_path)
    (folder / "pipelines.joblib").unlink()
    model = store.load(folder)
    assert predictions(model) == predictions(shipped)
    with pytest.raises(ModelError, match="holds no pipelines.joblib: it can predict but not retrain"):
        model.category_pipeline_
    (folder / "scorer.npz").unlink()
    with pytest.raises(ModelError, match="missing scorer.npz"):
        store.load(folder)


@pytest.mark.parametrize("change", [
    lambda c: c.update(review_threshold=0.01),
    lambda c: c["labels"]["classes"].update(tier=c["labels"]["classes"]["tier"][::-1]),
    lambda c: c["params"].update(n_terms=0),
    lambda c: c["files"].update({"scorer.npz": "0" * 64}),
])
def test_a_card_edited_by_hand_is_refused(tmp_path, change):
    folder = copy_version(MODELS, tmp_path)
    rewrite_card(folder, change, redigest=False)
    with pytest.raises(ModelError, match="the card's decision fields .* do not match its digest; the card was edited"):
        store.load(folder)


def test_a_format_1_folder_is_refused_with_a_hint(tmp_path):
    folder = copy_version(MODELS, tmp_path)
    rewrite_card(folder, lambda c: c.update(format=1))
    with pytest.raises(ModelError, match=r"model format 1 is not supported \(expected 2\) \(format 1 is a pickled "
                                         r"model.joblib, .* train a new version with 'triage train'\)"):
        store.load(folder)


@pytest.mark.parametrize("which", ["shipped", "saved here"])
def test_loading_and_predicting_unpickles_nothing(shipped, small_model, which, monkeypatch):
    from triage.store import parts

    model, folder = (shipped, MODELS) if which == "shipped" else small_model
    texts = TEXTS + SAMPLE.read_text("utf-8").splitlines()[1:30]
    expected = predictions(model, texts)
    if which == "shipped":  # on a machine with other library versions the parity check would read the pipelines
        recorded = store.read_card(MODELS)["libraries"]
        monkeypatch.setattr(parts, "library_versions", lambda: dict(recorded))

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(joblib, "load", refuse)
    with pytest.raises(AssertionError, match="unpickled"):
        pickle.loads(b"")  # the trap is set
    again = store.load(folder).warm_up()
    assert again.packed_ is not None
    assert predictions(again, texts) == expected


# ---------------------------------------------------------------------------- the parity check
def corrupt_one_weight(folder):
    """Add 2.0 to the category weight of the first word of the parity sample, and re-hash."""
    with np.load(folder / "scorer.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads((folder / "scorer.json").read_text("utf-8"))
    word = next(t for t in json.loads((folder / "parity.json").read_text("utf-8"))["texts"] if t).split()[0]
    block = meta["features"][0]["blocks"][0]
    assert block["kind"] == "word"
    column = block["terms"].split("\n").index(word)
    arrays["category.coef"][0, column] += 2.0
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    (folder / "scorer.npz").write_bytes(buf.getvalue())


def other_libraries(card):
    card["libraries"] = {**card["libraries"], "numpy": "0.0.1"}


def test_after_an_upgrade_a_scorer_that_agrees_is_kept(small_model, tmp_path, caplog):
    model, src = small_model
    folder = copy_version(src, tmp_path)
    rewrite_card(folder, other_libraries)
    with caplog.at_level(logging.WARNING, logger="triage.store"):
        again = store.load(folder)
    assert again.packed_ is not None and caplog.records == []
    assert predictions(again) == predictions(model)


def test_after_an_upgrade_a_scorer_that_disagrees_falls_back_to_scikit_learn(small_model, tmp_path, caplog):
    model, src = small_model
    folder = copy_version(src, tmp_path, "corrupt")
    corrupt_one_weight(folder)
    rewrite_card(folder, lambda c: None)  # re-hashed: the hash check passes
    assert store.load(folder).packed_ is not None  # same libraries: no check, the weight is used
    rewrite_card(folder, other_libraries)
    with caplog.at_level(logging.WARNING, logger="triage.store"):
        again = store.load(folder)
        store.load(folder)
    assert again.packed_ is None
    assert predictions(again) == predictions(model)  # scikit-learn's pipelines were not corrupted
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "\n" not in lines[0]  # said once, in one line
    assert lines[0].startswith("model corrupt: the packed scorer differs from scikit-learn by ")
    assert lines[0].endswith("(numpy changed); predicting through scikit-learn")
    (folder / "pipelines.joblib").unlink()
    with pytest.raises(ModelError, match=r"corrupt was saved with other library versions \(numpy\) and holds no "
                                         r"pipelines.joblib to check its scorer against; refusing to load it"):
        store.load(folder)


def test_a_scorer_that_disagrees_when_saved_is_not_used(small_model, tmp_path, caplog):
    from triage.model.estimator import TriageModel

    model, _ = small_model
    parts = model.to_parts()
    cat, tier = parts["packed"]
    coef = cat.linear.coef.copy()
    coef[0, 0] += 5.0
    from triage.model.fast.packed import PackedLinear, PackedPipeline

    bad = PackedPipeline(cat.classes_, cat.segmenter, cat.features,
                         PackedLinear(cat.linear.classes_, coef, cat.linear.intercept, cat.linear.link,
                                      cat.linear.a, cat.linear.b))
    twin = TriageModel.from_parts(parts["params"], **{**{k: v for k, v in parts.items() if k != "params"},
                                                      "packed": (bad, tier)})
    with caplog.at_level(logging.WARNING, logger="triage.store"):
        folder = store.save(twin, tmp_path, {"sha256": "0" * 64}, version="w")
    card = store.read_card(folder)
    assert card["engine"] == "sklearn" and card["parity"]["max_difference"] > 1e-6
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["model w"]
    again = store.load(folder)
    assert again.packed_ is None and predictions(again) == predictions(model)


# ---------------------------------------------------------------------------- the CURRENT mark
@pytest.fixture
def models(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    copy_version(MODELS, root, "a")
    copy_version(MODELS, root, "b")
    (root / "CURRENT").write_text("a\n", "utf-8")
    return root


@pytest.mark.parametrize("mark_text", ["../elsewhere", "..", "/tmp/elsewhere", "a/../b", "sub\\a", ".hidden", "C:a"])
def test_current_may_only_name_a_folder_inside_the_models_folder(models, mark_text):
    (models / "CURRENT").write_text(mark_text + "\n", "utf-8")
    with pytest.raises(ModelError, match="expected a CURRENT mark name \\(a folder directly inside the models folder"):
        store.load(models)
    with pytest.raises(ModelError, match="expected a version name"):
        versions.set_current(models, mark_text)
    with pytest.raises(ModelError, match="expected a version name"):
        versions.promote(models, mark_text, force=True)


def test_current_may_not_follow_a_link_out_of_the_models_folder(models, tmp_path):
    outside = copy_version(MODELS, tmp_path, "outside")
    os.symlink(outside, models / "evil")
    (models / "CURRENT").write_text("evil\n", "utf-8")
    with pytest.raises(ModelError, match="CURRENT mark 'evil' is a link leading out of the models folder"):
        store.load(models)
    with pytest.raises(ModelError, match="version 'evil' is a link leading out of the models folder"):
        versions.set_current(models, "evil")
    with pytest.raises(ModelError, match="CURRENT mark 'evil' is a link leading out"):  # no move from a bad mark
        versions.set_current(models, "b")
    (models / "CURRENT").write_text("a\n", "utf-8")
    os.symlink(models / "b", models / "alias")  # a link that stays inside is a version like any other
    versions.set_current(models, "alias")
    assert store.load(models).card_["version"] == store.read_card(models / "b")["version"]


def test_moves_of_the_mark_wait_for_the_lock(models, monkeypatch):
    from filelock import FileLock

    monkeypatch.setattr(mark, "LOCK_TIMEOUT", 0.2)
    with FileLock(str(models / mark.LOCK_FILE)):
        with pytest.raises(ModelError, match="another process has held the lock of .* for 0s; try again"):
            versions.set_current(models, "b")
    assert versions.current_version(models) == "a" and versions.read_history(models) == []
    versions.set_current(models, "b")
    assert [(e["action"], e["version"], e["previous"]) for e in versions.read_history(models)] == [
        ("promote", "b", "a")]
    assert (models / "HISTORY").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old
