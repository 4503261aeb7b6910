import numpy as np
import pytest
from fixtures_datasets import gazesearch_record, write_gazesearch
from PIL import Image

from core.data.gazesearch import read_gazesearch
from core.errors import GazeDataError

DICOM = "02aa804e-bde0afdd-112c0b34-7bc16630-4e384014"


@pytest.fixture
def json_path(tmp_path):
    records = [
        gazesearch_record(
            f"{DICOM}.jpg", 1, "Cardiomegaly", [111, 0, 223], [55, 223, 0], [0.3, 0.2, 0.5]
        ),
        gazesearch_record(f"{DICOM}.jpg", 2, "Pleural Effusion", [10], [20], [0.25], split="valid"),
        gazesearch_record("other.jpg", 1, "Atelectasis", [], [], [], condition="absent", bbox=None),
    ]
    return write_gazesearch(tmp_path / "gazesearch.json", records)


def test_records_become_reads_with_normalised_positions_and_cumulative_starts(json_path):
    case, other = read_gazesearch(json_path)
    assert case.case_id == DICOM and len(case.reads) == 2
    r1, r2 = case.reads
    # integer pixel indices of the 224 grid -> centres: (111 + 0.5) / 224 etc.
    assert r1.scanpath.xy == pytest.approx(
        np.array([[111.5 / 224, 55.5 / 224], [0.5 / 224, 223.5 / 224], [223.5 / 224, 0.5 / 224]])
    )
    assert r1.scanpath.starts_s == pytest.approx([0.0, 0.3, 0.5])  # sums of earlier durations
    assert r1.scanpath.durations_s == pytest.approx([0.3, 0.2, 0.5])
    assert (r1.reader_id, r2.reader_id) == ("1", "2")
    assert r1.labels == {"cardiomegaly": 1.0}
    assert r2.labels == {"pleural_effusion": 1.0, "pleural_abnormality": 1.0}
    (box,) = r1.annotations  # [x, y, w, h] = [50, 60, 40, 30] of 224
    assert (box.x0, box.y0, box.x1, box.y1) == pytest.approx(
        (50 / 224, 60 / 224, 90 / 224, 90 / 224)
    )
    assert box.labels == ("cardiomegaly",)
    assert r1.raw_labels["task"] == "Cardiomegaly" and r1.raw_labels["fixOnTarget"] is True
    assert case.labels == {"cardiomegaly": 1.0, "pleural_effusion": 1.0, "pleural_abnormality": 1.0}
    assert case.split == "train|valid"
    assert (case.image.width_px, case.image.height_px, case.image.path) == (224, 224, None)
    assert len(other.reads[0].scanpath) == 0 and other.labels == {"atelectasis": 0.0}


def test_image_size_from_image_or_mapping(json_path, tmp_path):
    Image.new("L", (2544, 3056)).save(tmp_path / f"{DICOM}.jpg")
    case, other = read_gazesearch(json_path, images_root=tmp_path, image_sizes={"other": (10, 20)})
    assert (case.image.width_px, case.image.height_px) == (2544, 3056)
    assert case.image.path == tmp_path / f"{DICOM}.jpg"
    assert (other.image.width_px, other.image.height_px) == (10, 20)


@pytest.mark.parametrize(
    "record, message",
    [
        (
            {"name": "a.jpg", "subject": 1, "task": "Edema", "X": [1], "Y": [1]},
            r"missing key\(s\) \['T'\]",
        ),
        (gazesearch_record("a.jpg", 1, "Edema", [1, 2], [1], [0.2]), "lengths differ"),
        (gazesearch_record("a.jpg", 1, "Edema", [224], [1], [0.2]), r"pixel indices in \[0, 224\)"),
        (
            gazesearch_record("a.jpg", 1, "Edema", ["1"], [1], [0.2]),
            "key 'X': must be a list of numbers",
        ),
        (gazesearch_record("a.jpg", 1, "Edema", [1], [1], [0.2], bbox=[1, 2]), "'bbox'"),
    ],
)
def test_malformed_records(tmp_path, record, message):
    path = write_gazesearch(
        tmp_path / "g.json", [gazesearch_record("ok.jpg", 1, "Edema", [1], [1], [0.1]), record]
    )
    # json.dumps writes one line: every record starts on line 1
    with pytest.raises(GazeDataError, match=rf"g\.json: line 1, record 1\b.*{message}"):
        list(read_gazesearch(path))


def test_not_a_list(tmp_path):
    path = tmp_path / "g.json"
    path.write_text('{"name": "a.jpg"}')
    with pytest.raises(GazeDataError, match="expected a JSON list"):
        list(read_gazesearch(path))
