import dataclasses
import hashlib
import json
import math
import shutil
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import core.models.registry as registry_module
from core.anatomy import REGION_IDS
from core.data.case import ImageRef
from core.errors import GazeScopeError, InputFileError
from core.models import (
    CAPABILITIES,
    KINDS,
    Prediction,
    PredictionRequest,
    Predictor,
    checkpoint_available,
    create_predictor,
    list_predictors,
    predictor_kind,
    register_predictor,
    trained_models_dir,
)
from core.models.baselines import (
    ABCDEF_JITTER,
    ABCDEF_TEMPLATE,
    DEFAULT_N_FIXATIONS,
    FIXATION_DURATION,
    FIXATION_POSITION_MEAN,
    FIXATION_POSITION_SD,
    abcdef_stations,
    fit_lognormal,
)
from core.models.checkpoint import CheckpointError, load_pretrained, save_pretrained
from core.report import ReportSentence, SentenceEvidence

BASELINES = ("abcdef", "centre", "centre-bias", "uniform")  # what the baselines module defines
IMAGE = ImageRef("img-1", None, 2000, 2500)


def _request(**kw) -> PredictionRequest:
    kw.setdefault("k", 3)
    kw.setdefault("seed", 7)
    return PredictionRequest(IMAGE, **kw)


# ---------------------------------------------------------------- registry ---------------


def test_baselines_are_registered_with_their_kind_and_described():
    assert list_predictors(kind="baseline") == list(BASELINES)
    assert set(BASELINES) <= set(list_predictors())
    assert all(predictor_kind(n) == "baseline" for n in BASELINES)
    assert list_predictors("centre*") == ["centre", "centre-bias"]
    for name in BASELINES:
        p = create_predictor(name)
        assert isinstance(p, Predictor) and p.name == name and not p.needs_image
        assert {"scanpath", "saliency"} <= p.capabilities
        assert p.describe().startswith(f"{name} 1 [")


def test_unknown_predictor_and_bad_override_are_one_line_errors():
    with pytest.raises(GazeScopeError, match="unknown predictor 'nope'; known: abcdef, centre"):
        create_predictor("nope")
    with pytest.raises(GazeScopeError, match="bad option"):
        create_predictor("uniform", no_such_option=3)
    assert create_predictor("uniform", n_fixations=4).config.n_fixations == 4


def test_registering_a_new_predictor_and_twice_under_one_name():
    @dataclass
    class _Cfg:
        value: float = 0.5

    class Constant(Predictor):
        name = "test-constant"
        version = "0"
        capabilities = frozenset({"findings"})

        def __init__(self, **kw):
            self.config = _Cfg(**kw)

        def predict(self, request):
            return Prediction(request.image.image_id, findings={"cardiomegaly": self.config.value})

    try:
        register_predictor("test-constant", kind="classifier")(Constant)
        register_predictor("test-constant", kind="classifier")(Constant)  # same again: fine
        with pytest.raises(ValueError, match="registered twice"):
            register_predictor("test-constant", kind="classifier")(type("Other", (Constant,), {}))
        with pytest.raises(ValueError, match="kind must be one of"):
            register_predictor("test-other", kind="oracle")
        assert predictor_kind("test-constant") == "classifier"
        assert "test-constant" in list_predictors(kind="classifier")
        assert "test-constant" not in list_predictors(kind="baseline")
        p = create_predictor("test-constant", value=0.25)
        out = p(_request())
        assert out.findings == {"cardiomegaly": 0.25}
        assert out.model == "test-constant" and out.version == "0" and "predict" in out.timings_s
        assert "value=0.25" in p.describe()
    finally:
        registry_module._REGISTRY.pop("test-constant", None)


# ---------------------------------------------------------------- every predictor ---------


@pytest.mark.parametrize("name", BASELINES)
def test_same_seed_same_output_other_seed_other_output(name):
    p = create_predictor(name)
    a = p(_request(n_fixations=12, saliency_shape=(20, 16)))
    b = p(_request(n_fixations=12, saliency_shape=(20, 16)))
    c = p(_request(n_fixations=12, saliency_shape=(20, 16), seed=8))
    assert len(a.scanpaths) == 3 and all(len(s) == 12 for s in a.scanpaths)
    for s1, s2, s3 in zip(a.scanpaths, b.scanpaths, c.scanpaths, strict=True):
        assert np.array_equal(s1.to_array(), s2.to_array())
        assert not np.array_equal(s1.to_array(), s3.to_array())
        xy = s1.xy
        assert np.all((xy >= 0) & (xy <= 1))
        assert np.all(np.diff(s1.starts_s) > 0)  # each fixation starts when the previous ends
    assert np.array_equal(a.saliency, b.saliency)
    assert a.saliency.shape == (20, 16) and a.saliency.sum() == pytest.approx(1.0)
    # sample i does not depend on k
    d = p(_request(n_fixations=12, k=1, saliency_shape=(20, 16)))
    assert np.array_equal(d.scanpaths[0].to_array(), a.scanpaths[0].to_array())
    assert a.scanpaths[1].reader_id == f"{name}#1" and a.scanpaths[0].image_id == "img-1"


@pytest.mark.parametrize("name", BASELINES)
def test_baselines_never_decode_the_image(name, tmp_path):
    missing = ImageRef("x", tmp_path / "does-not-exist.png", 512, 512)
    out = create_predictor(name)(PredictionRequest(missing, k=1, n_fixations=3))
    assert len(out.scanpaths[0]) == 3 and out.saliency.shape == (64, 64)  # default grid


# ---------------------------------------------------------------- request / prediction ----


def test_request_loads_the_radiograph_lazily(nih_dir):
    path = sorted((nih_dir / "images").glob("*.png"))[0]
    req = PredictionRequest(ImageRef(path.stem, path, 512, 512))
    assert req._radiograph is None
    assert req.radiograph.width == 512 and req._radiograph is not None
    assert PredictionRequest.from_radiograph(req.radiograph).image.image_id == path.stem
    with pytest.raises(InputFileError, match="not available locally"):
        _ = PredictionRequest(ImageRef("gone", None, 10, 10)).radiograph


def test_prediction_checks_its_contract():
    with pytest.raises(ValueError, match="sum to 1"):
        Prediction("a", saliency=np.ones((4, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        Prediction("a", saliency=np.array([[2.0, -1.0]]))
    with pytest.raises(ValueError, match="unknown finding"):
        Prediction("a", findings={"broken_heart": 0.2})
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        Prediction("a", findings={"cardiomegaly": 1.5})
    with pytest.raises(ValueError, match="n_fixations"):
        PredictionRequest(IMAGE, n_fixations=0)


def test_report_sentence_validates_regions_finding_confidence_and_evidence():
    s = ReportSentence(
        "Small right effusion.",
        region_ids=("right_costophrenic_angle", "right_lung"),
        finding_id="pleural_effusion",
        confidence=0.8,
        evidence=SentenceEvidence(region_box=(0.1, 0.6, 0.3, 0.8), fixations=[(0, 3), (1, 4)]),
    )
    assert s.evidence.fixations == ((0, 3), (1, 4)) and math.isnan(ReportSentence("x").confidence)
    with pytest.raises(ValueError, match="unknown region"):
        ReportSentence("x", region_ids=("left_kidney",))
    with pytest.raises(ValueError, match="unknown finding"):
        ReportSentence("x", finding_id="effusion")
    with pytest.raises(ValueError, match="confidence"):
        ReportSentence("x", confidence=1.2)
    with pytest.raises(ValueError, match="region_box"):
        SentenceEvidence(region_box=(0.5, 0.5, 0.4, 0.6))


# ---------------------------------------------------------------- baseline statistics -----


def test_lognormal_fit_matches_the_published_duration_figures():
    d = FIXATION_DURATION
    assert (d.mu, d.sigma) == pytest.approx((-1.2575, 0.4800), abs=1e-3)
    for got, published in [
        (d.median, 0.28),
        (d.mean, 0.32),
        (d.quantile(0.05), 0.13),
        (d.quantile(0.95), 0.63),
    ]:
        assert got == pytest.approx(published, rel=0.02)
    # four exactly consistent statistics are recovered exactly
    mu, s = -1.0, 0.6
    z = 1.6448536269514722
    fit = fit_lognormal(
        math.exp(mu), math.exp(mu + s * s / 2), math.exp(mu - z * s), math.exp(mu + z * s)
    )
    assert (fit.mu, fit.sigma) == pytest.approx((mu, s), abs=1e-6)


def test_sampled_durations_have_the_fitted_median_and_mean():
    p = create_predictor("uniform", n_fixations=2000)
    durations = np.concatenate(
        [s.durations_s for s in p(_request(k=25, saliency_shape=(4, 4))).scanpaths]
    )
    assert np.median(durations) == pytest.approx(FIXATION_DURATION.median, rel=0.02)
    assert durations.mean() == pytest.approx(FIXATION_DURATION.mean, rel=0.02)


def test_centre_bias_samples_have_the_published_mean_and_sd():
    p = create_predictor("centre-bias", n_fixations=4000)
    out = p(_request(k=25, saliency_shape=(256, 256)))
    xy = np.concatenate([s.xy for s in out.scanpaths])  # 100,000 fixations
    assert np.all((xy >= 0) & (xy <= 1))
    assert xy.mean(axis=0) == pytest.approx(FIXATION_POSITION_MEAN, abs=0.003)
    assert xy.std(axis=0) == pytest.approx(FIXATION_POSITION_SD, abs=0.003)
    # the saliency map is the same density: its moments over the grid cells agree
    m = out.saliency
    centres = (np.arange(256) + 0.5) / 256
    mx, my = (m.sum(axis=0) * centres).sum(), (m.sum(axis=1) * centres).sum()
    sx = np.sqrt((m.sum(axis=0) * (centres - mx) ** 2).sum())
    sy = np.sqrt((m.sum(axis=1) * (centres - my) ** 2).sum())
    assert (mx, my) == pytest.approx(FIXATION_POSITION_MEAN, abs=0.002)
    assert (sx, sy) == pytest.approx(FIXATION_POSITION_SD, abs=0.002)


def test_centre_and_uniform_positions_and_maps():
    c = create_predictor("centre")(_request(n_fixations=5, saliency_shape=(25, 21)))
    assert np.all(c.scanpaths[0].xy == 0.5)
    assert np.unravel_index(c.saliency.argmax(), c.saliency.shape) == (12, 10)
    u = create_predictor("uniform", n_fixations=5000)(_request(k=4, saliency_shape=(5, 7)))
    xy = np.concatenate([s.xy for s in u.scanpaths])
    assert xy.mean(axis=0) == pytest.approx((0.5, 0.5), abs=0.01)
    assert xy.var(axis=0) == pytest.approx((1 / 12, 1 / 12), abs=0.003)
    assert np.all(u.saliency == u.saliency[0, 0])


def test_abcdef_follows_the_template_in_order():
    assert {r for r, _, _ in ABCDEF_TEMPLATE} <= set(REGION_IDS)
    names = [r for r, _, _ in ABCDEF_TEMPLATE]
    assert names[0] == "trachea" and names.index("right_upper_zone") < names.index(
        "right_lower_zone"
    )
    assert names.index("cardiac_silhouette") < names.index("right_costophrenic_angle")
    assert abcdef_stations(21).tolist() == list(range(21))
    assert abcdef_stations(7).tolist() == [0, 3, 6, 9, 12, 15, 18]
    assert abcdef_stations(42).tolist() == [i // 2 for i in range(42)]
    out = create_predictor("abcdef")(
        PredictionRequest(ImageRef("sq", None, 1000, 1000), k=20, seed=1, n_fixations=21)
    )
    template = np.array([(x, y) for _, x, y in ABCDEF_TEMPLATE])
    offsets = np.stack([s.xy for s in out.scanpaths]) - template  # (20, 21, 2)
    assert np.abs(offsets).max() < 5 * ABCDEF_JITTER
    assert offsets.std() == pytest.approx(ABCDEF_JITTER, rel=0.15)


def test_scanpath_length_precedence():
    req = _request(k=1, n_fixations=9)
    assert len(create_predictor("uniform")(req).scanpaths[0]) == 9  # the request's
    assert len(create_predictor("uniform", n_fixations=4)(req).scanpaths[0]) == 4  # config wins
    plain = create_predictor("uniform")(_request(k=1))
    assert len(plain.scanpaths[0]) == DEFAULT_N_FIXATIONS


# ---------------------------------------------------------------- every registered one ----


def _build(name):
    """The registered predictor, untrained (``checkpoint=None``) when its weights are absent."""
    return create_predictor(name, **({} if checkpoint_available(name) else {"checkpoint": None}))


def _as_comparable(out: Prediction):
    return (
        [s.to_array().tolist() for s in out.scanpaths],
        None if out.saliency is None else out.saliency.tolist(),
        {k: v.tolist() for k, v in out.attention.items()},
        out.findings,
        [(s.text, s.region_ids, s.finding_id) for s in out.sentences],
    )


@pytest.mark.parametrize("name", list_predictors())
def test_every_registered_predictor_keeps_the_contract(name):
    assert predictor_kind(name) in KINDS
    p = _build(name)
    assert isinstance(p, Predictor) and p.name == name and p.capabilities <= CAPABILITIES
    request = PredictionRequest(IMAGE, k=2, seed=3, n_fixations=6, saliency_shape=(8, 6))
    if p.needs_image:
        request = PredictionRequest.from_radiograph(_radiograph(), k=2, seed=3, n_fixations=6)
    a, b = p(request), p(request)
    assert _as_comparable(a) == _as_comparable(b)  # same seed, same output
    assert a.model == name
    if "scanpath" in p.capabilities:
        assert len(a.scanpaths) == 2
    if "saliency" in p.capabilities:
        assert a.saliency is not None


def _radiograph():
    from core.io.radiograph import Radiograph

    y, x = np.mgrid[0:96, 0:80] / 96.0
    return Radiograph(((x + y) / 2).astype(np.float32), "0" * 64, "ramp.png")


# ---------------------------------------------------------------- checkpoints ------------


@dataclass
class _TinyConfig:
    width: int = 4
    scales: tuple[float, ...] = (1.0, 2.0)
    label: str = "tiny"


class _TinyNet(torch.nn.Module):
    def __init__(self, config: _TinyConfig):
        super().__init__()
        self.config = config
        self.linear = torch.nn.Linear(3, config.width)
        self.head = torch.nn.Linear(config.width, 1)

    def forward(self, x):
        return self.head(torch.relu(self.linear(x)))


def test_save_and_load_pretrained_round_trip(tmp_path):
    torch.manual_seed(0)
    net = _TinyNet(_TinyConfig(width=5, scales=(0.5, 3.0)))
    net(torch.ones(2, 3)).sum().backward()  # a forward/backward before saving changes nothing
    out = save_pretrained(
        tmp_path / "tiny",
        net,
        net.config,
        model_type="tiny-test",
        card="# Tiny\n\nA test model.",
        labels=["a", "b"],
        preprocessing={"grid": 8},
        training_data={"dataset": "none", "loss": math.inf},
        metrics={"auc": math.nan},
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    raw = json.loads((out / "config.json").read_text())  # strict JSON: inf/nan became null
    assert raw["format_version"] == 1 and raw["model_type"] == "tiny-test"
    assert raw["config"] == {"width": 5, "scales": [0.5, 3.0], "label": "tiny"}
    assert raw["labels"] == ["a", "b"] and raw["metrics"] == {"auc": None}
    assert raw["training_data"]["loss"] is None and raw["gazescope_version"]
    module, config, meta = load_pretrained(out, _TinyNet, _TinyConfig)
    assert config == _TinyConfig(width=5, scales=(0.5, 3.0))  # tuples come back as tuples
    assert not module.training
    x = torch.randn(4, 3)
    assert torch.equal(module(x), net(x))
    assert (
        meta["weights_sha256"]
        == hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()
    )
    assert (out / "README.md").read_text().startswith("# Tiny")


def test_load_pretrained_names_the_folder_when_it_is_missing_or_corrupt(tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoint .*nowhere: no such folder"):
        load_pretrained(tmp_path / "nowhere", _TinyNet, _TinyConfig)
    good = save_pretrained(
        tmp_path / "good", _TinyNet(_TinyConfig()), _TinyConfig(), model_type="t", card="c"
    )
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    (bad / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match=r"bad: model.safetensors cannot be read"):
        load_pretrained(bad, _TinyNet, _TinyConfig)
    (bad / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors is missing"):
        load_pretrained(bad, _TinyNet, _TinyConfig)
    shutil.copy(good / "model.safetensors", bad / "model.safetensors")
    (bad / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json is not valid JSON"):
        load_pretrained(bad, _TinyNet, _TinyConfig)
    meta = json.loads((good / "config.json").read_text())
    meta["config"]["width"] = 7  # weights of width 4 do not fit a width-7 net
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="weights do not fit _TinyNet"):
        load_pretrained(bad, _TinyNet, _TinyConfig)
    meta["format_version"] = 99
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="format_version 99"):
        load_pretrained(bad, _TinyNet, _TinyConfig)
    assert issubclass(CheckpointError, GazeScopeError)


def test_default_checkpoint_is_passed_unless_overridden(tmp_path, monkeypatch):
    seen = []

    class Needy(Predictor):
        name = "test-needy"
        capabilities = frozenset({"findings"})

        def __init__(self, checkpoint=None):
            seen.append(checkpoint)

        def predict(self, request):
            return Prediction(request.image.image_id)

    monkeypatch.setenv("GAZESCOPE_MODELS", str(tmp_path))
    assert trained_models_dir() == tmp_path
    try:
        register_predictor("test-needy", kind="scanpath", default_checkpoint="needy-v1")(Needy)
        assert not checkpoint_available("test-needy")
        create_predictor("test-needy")
        create_predictor("test-needy", checkpoint=None)
        assert seen == [tmp_path / "needy-v1", None]
        (tmp_path / "needy-v1").mkdir()
        (tmp_path / "needy-v1" / "config.json").write_text("{}")
        assert checkpoint_available("test-needy") and checkpoint_available("uniform")
    finally:
        registry_module._REGISTRY.pop("test-needy", None)


LEARNED = [n for n in list_predictors() if predictor_kind(n) != "baseline"]


@pytest.mark.parametrize(
    "name",
    LEARNED or [pytest.param(None, marks=pytest.mark.skip(reason="no learned model registered"))],
)
def test_every_learned_model_round_trips_through_its_checkpoint(name, tmp_path):
    p = _build(name)
    module, config = getattr(p, "model", None), getattr(p, "config", None)
    assert isinstance(module, torch.nn.Module) and dataclasses.is_dataclass(config), (
        f"{name}: a learned predictor keeps its nn.Module in .model and its config in .config"
    )
    out = save_pretrained(tmp_path / "ckpt", module, config, model_type=name, card=f"# {name}")
    loaded, loaded_config, meta = load_pretrained(out, type(module), type(config))
    assert loaded_config == config and meta["model_type"] == name
    state = module.state_dict()
    assert loaded.state_dict().keys() == state.keys()
    assert all(torch.equal(loaded.state_dict()[k].cpu(), v.cpu()) for k, v in state.items())


def test_model_info_summarises_long_training_data_lists() -> None:
    """A checkpoint listing 151 pseudo-labelled images once made every result record too long
    for the store (the app could not open a case): model_info keeps a one-glance summary."""

    class Listed(Predictor):
        name = "listed"
        capabilities = frozenset({"scanpath"})

        def predict(self, request):  # pragma: no cover - not called
            raise AssertionError

    p = Listed()
    p.meta = {"training_data": {"images": [f"{i:08d}_000.png" for i in range(151)],
                                "views": ["PA", "AP"], "n": 3}}
    data = json.loads(p.model_info()["training_data"])
    assert data == {"images": "151 items (listed in the checkpoint's config.json)",
                    "views": ["PA", "AP"], "n": 3}
    assert len(p.model_info()["training_data"]) < 200
