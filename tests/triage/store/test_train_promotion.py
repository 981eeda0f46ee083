"""``triage train`` promotes a new version only when it passes the quality check of
``triage models promote``; otherwise it keeps the version unpromoted and says why, and
``--force`` promotes it anyway, recorded in HISTORY."""
from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from tests.conftest import FAST
from triage.cli.main import main
from triage.store import versions
from triage.train import train_from_data

ARGS = ("--features", "word", "--classifiers", "linearsvc", "--cv", "3")


@pytest.fixture
def models(tmp_path, small_model):
    """A models folder whose current version is the small model."""
    _, good = small_model
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(good, root / good.name)
    (root / "CURRENT").write_text(good.name + "\n", encoding="utf-8")
    return root


def worse(monkeypatch, seen):
    """Make the comparison say the candidate is worse (0.60 vs 0.80 category macro-F1)."""
    def compare(candidate, current, data_dir=None, **kwargs):
        seen.append((candidate.name, current.name))
        score = lambda f1: {"category": {"macro_f1": f1}, "tier": {"macro_f1": 0.7}}  # noqa: E731
        return SimpleNamespace(metrics={"current": score(0.80), "candidate": score(0.60)}, n_splits=3, n_rows=200,
                               versions={"candidate": candidate.name, "current": current.name})

    monkeypatch.setattr(versions, "compare", compare)


def test_a_new_version_passing_the_check_becomes_current(models, small_model, small_data):
    good = small_model[1].name
    model, folder = trained = train_from_data(small_data, models, version="again", **FAST)
    assert trained.promotion.allowed and not trained.promotion.forced
    assert trained.promotion.scores["category"]["delta"] == 0.0  # same recipe on the same folds
    assert versions.current_version(models) == "again"
    last = versions.read_history(models)[-1]
    assert (last["action"], last["version"], last["previous"], last["forced"]) == ("promote", "again", good, False)


def test_a_worse_version_is_kept_unpromoted_and_the_reason_given(models, small_model, small_data, monkeypatch):
    good, seen = small_model[1].name, []
    worse(monkeypatch, seen)
    trained = train_from_data(small_data, models, version="worse", **FAST)
    assert seen == [("worse", good)]
    assert (trained.folder / "card.json").is_file() and not trained.promotion.allowed
    assert "category macro-F1 0.600 < 0.800 - 0.01" in trained.promotion.reason
    assert versions.current_version(models) == good
    last = versions.read_history(models)[-1]
    assert (last["action"], last["version"], last["previous"]) == ("refused", "worse", good)


def test_cli_train_says_why_and_force_promotes_with_a_record(models, small_model, small_data, monkeypatch, capsys):
    good, seen = small_model[1].name, []
    worse(monkeypatch, seen)
    code = main(["train", "--data", str(small_data), "--models", str(models), "--version-name", "v2", *ARGS])
    captured = capsys.readouterr()
    assert code == 0
    assert f"saved {models / 'v2'} (kept, NOT promoted)" in captured.out
    assert ("saved v2 (kept, NOT promoted); promotion: the candidate is worse than the current version on the same 3 "
            "folds of 200 opinions: category macro-F1 0.600 < 0.800 - 0.01; use force to promote it anyway") \
        in captured.err  # the refusal is said on standard error, even with --quiet
    assert versions.current_version(models) == good

    code = main(["train", "--data", str(small_data), "--models", str(models), "--version-name", "v3", "--force", *ARGS])
    out = capsys.readouterr().out
    assert code == 0 and f"saved {models / 'v3'} (current; forced)" in out
    assert versions.current_version(models) == "v3"
    assert seen == [("v2", good)]  # forced: no comparison
    history = [(e["action"], e["version"], e.get("forced")) for e in versions.read_history(models)]
    assert history == [("refused", "v2", False), ("promote", "v3", True)]


def test_cli_train_without_promotion_and_usage(models, small_model, small_data, capsys):
    code = main(["train", "--data", str(small_data), "--models", str(models), "--version-name", "v4", "--no-promote",
                 *ARGS])
    assert code == 0 and f"saved {models / 'v4'} (not promoted: --no-promote)" in capsys.readouterr().out
    assert versions.current_version(models) == small_model[1].name and versions.read_history(models) == []
    assert main(["train", "--no-promote", "--force"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["train", "--help"]) == 0
    assert "--force" in capsys.readouterr().out


def test_cli_train_quiet_says_only_a_refusal_and_progress_counts_every_step(models, small_model, small_data,
                                                                            monkeypatch, capsys):
    from triage.train import train_from_data, training_steps

    worse(monkeypatch, [])
    code = main(["train", "--data", str(small_data), "--models", str(models), "--version-name", "q1", "--quiet", *ARGS])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == ""
    assert captured.err.startswith("saved q1 (kept, NOT promoted); promotion: the candidate is worse")
    steps = []
    train_from_data(small_data, models, version="q2", promote=False, progress=steps.append, cv=3,
                    feature_sets=["word"], classifiers=["linearsvc"])
    assert steps == ["category: word+linearsvc", "tier: word+linearsvc", "saved"]
    assert training_steps(["word"], ["linearsvc"], promote=False) == len(steps)


def test_the_ensemble_is_a_category_candidate_only_and_the_steps_count_it(models, small_data):
    from triage.train import train_from_data, training_steps

    steps = []
    model, _ = train_from_data(small_data, models, version="e1", promote=False, progress=steps.append, cv=3,
                               feature_sets=["word"], classifiers=["linearsvc", "linearsvc+coarse"])
    assert steps == ["category: word+linearsvc", "category: word+linearsvc+coarse", "tier: word+linearsvc", "saved"]
    assert training_steps(["word"], ["linearsvc", "linearsvc+coarse"], promote=False) == len(steps)
    assert model.get_params()["min_df"] == 2  # triage train's default (chosen on cross-validation)


def test_cli_train_refuses_a_min_df_under_one(capsys):
    assert main(["train", "--min-df", "0"]) == 2
    assert "argument --min-df: expected a whole number of at least 1, found '0'" in capsys.readouterr().err
