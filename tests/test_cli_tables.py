"""The command line on real-world tables: categories, empty cells, ids, delimiters, early stopping."""

import csv
import shutil

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import cli
from nnscratch.cli import columns, encoding, features, missing, tables
from nnscratch.cli.commands import common
from nnscratch.errors import DataError

PEOPLE_HEADER = ["PassengerId", "name", "sex", "age", "town", "fare", "notes", "survived"]


def people_csv(path, n=120, seed=0, delimiter=",", empty_target=0, bom=False):
    """A titanic-like table: an id, distinct names, two text columns, empty cells, an all-empty
    column, and a target that follows sex and age."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = ["female", "male"][rng.integers(2)]
        age = rng.uniform(1, 70)
        town = ["Cherbourg", "Queenstown", "Southampton"][rng.integers(3)]
        fare = rng.uniform(5, 100)
        survived = "yes" if (sex == "female") ^ (age > 50) else "no"
        rows.append([str(i + 1), f"Person, Number {i}", sex, f"{age:.1f}", town, f"{fare:.2f}",
                     "", survived])
    for i in range(0, n, 7):
        rows[i][3] = ["", "NA", "?"][i % 3]               # ages missing, three spellings
    for i in range(3, n, 11):
        rows[i][4] = ""                                   # towns missing
    for i in range(empty_target):
        rows[5 + i][-1] = ""
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(PEOPLE_HEADER)
        writer.writerows(rows)
    return path


def train(capsys, data, model, *extra, code=0):
    result = cli.main(["train", str(data), "--out", str(model), "--verbose", "0", "--hidden", "8",
                       "--epochs", "40", "--target", "survived", *extra])
    captured = capsys.readouterr()
    assert result == code, captured.err
    return captured.out if code == 0 else captured.err


def columns_line(out):
    return next(line for line in out.splitlines() if line.startswith("columns: "))


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """The people table trained once: (folder, data, model, train's output)."""
    folder = tmp_path_factory.mktemp("people")
    data = people_csv(folder / "people.csv", empty_target=3)
    model = folder / "people.nns"
    code = cli.main(["train", str(data), "--out", str(model), "--verbose", "0", "--hidden", "8",
                     "--epochs", "40", "--target", "survived", "--lr", "0.01"])
    assert code == 0
    return folder, data, model


def test_train_summarises_every_column(people, tmp_path, capsys):
    _, data, _ = people
    out = train(capsys, data, tmp_path / "m.nns")
    assert "target: 3 row(s) with an empty target cell dropped" in out
    assert "data: people.csv, 117 rows, 4 features" in out
    line = columns_line(out)
    assert "PassengerId: looks like a row id (named like an id, 117 distinct values) -> ignored" \
        in line
    assert "name: looks like a row id (text with a different value in each of its 117 rows)" in line
    assert "sex: text, 2 categories -> one-hot;" in line
    assert "age: number, 17 empty -> median " in line and "+ indicator" in line
    assert "town: text, 3 categories -> one-hot, 11 empty -> most frequent " in line
    assert "fare: number;" in line
    assert "notes: empty in every training row -> ignored" in line
    record = ns.load(tmp_path / "m.nns").metadata[common.RECORD_KEY]
    assert record["version"] == 2 and record["features"] == ["sex", "age", "town", "fare"]
    assert record["inputs"] == ["sex=female", "sex=male", "age", "age (missing)",
                                "town=Cherbourg", "town=Queenstown", "town=Southampton",
                                "town (missing)", "fare"]
    binary = [0, 1, 4, 5, 6, 7, 3]
    assert [record["feature_mean"][i] for i in binary] == [0.0] * 7
    assert [record["feature_std"][i] for i in binary] == [1.0] * 7
    assert {i["name"] for i in record["ignored"]} == {"PassengerId", "name", "notes"}


def test_predict_fills_empty_cells_and_takes_unseen_categories(people, tmp_path, capsys):
    _, _, model = people
    new = tmp_path / "new.csv"
    new.write_text("sex,age,town,fare,notes,PassengerId\n"
                   "female,30,Cherbourg,10,,1\n"
                   "male,,Atlantis,20,x,2\n"              # empty age, a town never seen
                   ",NA,,,,3\n")                         # every feature missing
    assert cli.main(["predict", str(model), str(new), "--out", str(tmp_path / "p.csv")]) == 0
    assert "3 predictions of 'survived'" in capsys.readouterr().out
    _, record = common.load_model(model)
    x = features.encode_table(tables.read_csv(new), record["columns"])
    town = slice(record["inputs"].index("town=Cherbourg"), record["inputs"].index("town (missing)"))
    np.testing.assert_array_equal(x[1, town], [0, 0, 0])       # unseen: all zeros
    spec = record["columns"][record["features"].index("town")]
    assert x[2, town].tolist() == [c == spec["fill"] for c in spec["categories"]]
    age = record["inputs"].index("age")
    assert x[1, age] == x[2, age] == record["columns"][1]["fill"]
    assert x[:, age + 1].tolist() == [0, 1, 1]                 # the indicator


def test_evaluate_and_info_show_what_was_done(people, capsys):
    _, data, model = people
    assert cli.main(["evaluate", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert "people.csv: 117 rows, task classify (3 row(s) with an empty target cell left out)" in out
    assert float(out.split("accuracy")[1].split()[0]) > 0.8
    assert cli.main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    for text in ["preprocessing of 4 feature column(s), in order:",
                 "PassengerId: looks like a row id", "notes: empty in every training row",
                 "sex: text, 2 categories -> one-hot", "9 network inputs", "sex=female",
                 "age (missing)", "rows dropped for an empty target cell: 3"]:
        assert text in out, text
    stopping = ns.load(model).metadata[common.RECORD_KEY]["training"]["stopping"]
    assert "at epoch" in stopping and stopping in out


def test_ignore_keep_and_their_errors(tmp_path, capsys):
    data = people_csv(tmp_path / "p.csv", n=60)
    out = train(capsys, data, tmp_path / "m.nns", "--ignore", "fare, town", "--keep",
                "PassengerId")
    line = columns_line(out)
    assert "fare: --ignore -> ignored" in line and "town: --ignore -> ignored" in line
    assert "PassengerId: number;" in line
    err = train(capsys, data, tmp_path / "x.nns", "--ignore", "fare,Fare", code=2)
    assert "\n" not in err.strip()
    assert "--ignore names 'Fare', not a column of p.csv; its columns are: 'PassengerId', " in err
    err = train(capsys, data, tmp_path / "x.nns", "--ignore", "survived", code=2)
    assert "--ignore names the target 'survived'" in err
    err = train(capsys, data, tmp_path / "x.nns", "--ignore", "sex,age,town,fare", code=2)
    assert "has no feature column besides the target 'survived' (ignored: 'PassengerId'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nns", "p.csv"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_found_with_bom_and_quotes(tmp_path, delimiter):
    data = people_csv(tmp_path / "p.csv", n=30, delimiter=delimiter, bom=True)
    table = tables.read_csv(data)
    assert table.names == PEOPLE_HEADER
    assert table.columns["name"][3] == "Person, Number 3"      # a quoted comma stays in its cell
    assert table.where(4, "sex") == "p.csv, line 6, column 'sex'"


def test_sniffing_counts_outside_quotes_and_r_row_names(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('"","a;b,c","d"\n"1",2,"x;y"\n"2",3,"z"\n')
    table = tables.read_csv(path)
    assert table.names == ["Unnamed: 0", "a;b,c", "d"]
    assert table.columns["d"].tolist() == ["x;y", "z"]


def test_early_stopping_is_the_default(tmp_path, capsys):
    data = people_csv(tmp_path / "p.csv", n=80)
    out = cli.main(["train", str(data), "--target", "survived", "--out", str(tmp_path / "m.nns"),
                    "--verbose", "0", "--hidden", "4", "--lr", "0.05", "--patience", "3"])
    out = capsys.readouterr().out
    assert "early stopping: validation loss best at epoch" in out
    record = ns.load(tmp_path / "m.nns").metadata[common.RECORD_KEY]["training"]
    assert record["max_epochs"] == 1000 and record["patience"] == 3 and record["epochs"] < 1000
    out = train(capsys, data, tmp_path / "m.nns", "--patience", "0", "--epochs", "5")
    assert "trained all 5 epochs (no early stopping" in out


def test_a_model_file_of_the_first_record_version_still_works(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{i % 5},{i % 3},{'pq'[i % 2]}\n" for i in range(30)))
    net = ns.Network([ns.Dense(2, activation="softmax")], input_shape=(2,),
                     loss="sparse_categorical_crossentropy")
    record = {"version": 1, "task": "classify", "target": "y", "features": ["a", "b"],
              "feature_mean": [2.0, 1.0], "feature_std": [1.4, 0.8], "classes": ["p", "q"],
              "target_mean": None, "target_std": None}
    net.save(tmp_path / "old.nns", metadata={common.RECORD_KEY: record})
    assert cli.main(["predict", str(tmp_path / "old.nns"), str(path)]) == 0
    assert capsys.readouterr().out.startswith("y,prob_p,prob_q\n")
    assert cli.main(["info", str(tmp_path / "old.nns")]) == 0
    assert "a: number, 0 empty -> median none" not in capsys.readouterr().out
    path.write_text("a,b\n1,\n")
    assert cli.main(["predict", str(tmp_path / "old.nns"), str(path)]) == 2
    assert "d.csv, line 2, column 'b': empty cell, expected a number" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The pieces
# ---------------------------------------------------------------------------------------------

def test_missing_tokens():
    cells = np.array(["", " NA ", "N/A", "?", "null", "None", "nan", "na", "0"], dtype=object)
    assert missing.missing_mask(cells).tolist() == [True] * 5 + [False] * 4
    assert missing.most_frequent(["b", "a", "b", "a", "c"]) == ("a", 2)   # ties: smallest text


def where(row):
    return f"row {row}"


@pytest.mark.parametrize("cells, kind", [
    (["1", "2.5", "", "1e3"], "number"),
    (["nan", "1"], "number"),                               # refused later, as before
    (["A/5 21171", "113803", "PC 17599", "STON/O2. 3101282", "1"], "category"),
    (["None", "Some", "Freq"], "category"),
])
def test_column_kinds(cells, kind):
    cells = np.array(cells, dtype=object)
    assert columns.column_kind("c", cells, missing.missing_mask(cells), where) == kind


def test_a_mostly_numeric_column_with_a_stray_word_is_an_error():
    cells = np.array(["1", "2", "", "unknown", "5"], dtype=object)
    with pytest.raises(DataError, match=r"^row 3: expected a number, got 'unknown' \(column 'c' "
                                        r"holds numbers in 3 of 4 cells; leave a missing cell"):
        columns.column_kind("c", cells, missing.missing_mask(cells), where)


@pytest.mark.parametrize("name, values, is_id", [
    ("PassengerId", [3, 1, 2], True),
    ("customer_id", ["a", "b"], True),
    ("paid", list(range(30)), True),                          # a counter, whatever its name
    ("paid", [1, 2, 2], False),                               # not distinct
    ("patient_id", [7, 7, 9], True),                          # named so: repeated ids too
    ("ID", [0.5, 1.5, 2.5], False),                           # not whole: a measurement
    ("income", [1000 * i + 7 for i in range(30)], False),      # distinct but spread out
    ("PAID", [1, 2, 3], False),
    ("score", [0.5 + i for i in range(30)], False),            # not whole
    ("town", [f"t{i}" for i in range(30)], True),               # text, each row its own
    ("town", [f"t{i}" for i in range(10)], False),              # too few rows to tell
])
def test_id_detection(name, values, is_id):
    cells = np.array([str(v) for v in values], dtype=object)
    kind = columns.column_kind(name, cells, missing.missing_mask(cells), where)
    assert (columns.id_reason(name, cells, missing.missing_mask(cells), kind) is not None) == is_id


def test_many_categories_keep_the_most_frequent_and_share_an_other_input():
    cells = np.array(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d", "e", ""], dtype=object)
    mask = missing.missing_mask(cells)
    spec = encoding.fit_column("town", "category", cells, mask, np.ones(len(cells), bool), 3,
                               where)
    assert spec["categories"] == ["a", "b"] and spec["other"] and spec["fill"] == "a"
    assert encoding.input_names(spec) == ["town=a", "town=b", "town=(other)", "town (missing)"]
    block = encoding.encode_column(spec, np.array(["b", "c", "zzz", "NA"], dtype=object), where)
    np.testing.assert_array_equal(block, [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    assert encoding.describe_column(spec) == ("town: text, 5 categories -> one-hot of the 2 most "
                                              "frequent + (other), 1 empty -> most frequent 'a' "
                                              "+ indicator")


def test_fill_values_come_from_the_training_rows_only():
    cells = np.array(["1", "2", "", "100", "200"], dtype=object)
    train = np.array([True, True, True, False, False])
    spec = encoding.fit_column("x", "number", cells, missing.missing_mask(cells), train, 20, where)
    assert spec["fill"] == 1.5 and spec["indicator"] and spec["empty"] == 1
    cells = np.array(["1", "2", "3", "", "9"], dtype=object)
    spec = encoding.fit_column("x", "number", cells, missing.missing_mask(cells), train, 20, where)
    assert spec["fill"] == 2.0 and not spec["indicator"] and spec["empty"] == 1


def test_what_was_bad_data_before_now_trains(tmp_path, capsys):
    """An empty feature cell is filled and a row without a target is dropped (both were
    errors before real tables were handled)."""
    header = '"width (cm)","height","z",color\n'
    (tmp_path / "a.csv").write_text(header + "1,2,3,red\n4,5,6,blue\n\n\n7,,9,red\n")
    out = train(capsys, tmp_path / "a.csv", tmp_path / "a.nns", "--target", "color",
                "--validation-split", "0", "--epochs", "2")
    assert "height: number, 1 empty -> median 3.5 + indicator" in out
    (tmp_path / "b.csv").write_text(header + "1,2,3,red\n4,5,6,blue\n7,8,9, \n")
    out = train(capsys, tmp_path / "b.csv", tmp_path / "b.nns", "--target", "color",
                "--validation-split", "0", "--epochs", "2")
    assert "target: 1 row(s) with an empty target cell dropped" in out
    assert "data: b.csv, 2 rows, 3 features" in out


def test_an_archive_of_named_columns_with_text_and_empty_cells(tmp_path, capsys):
    n = 40
    np.savez(tmp_path / "d.npz", size=np.arange(n) % 7 * 1.5,
             kind=np.array(["", "big", "small", "NA"] * (n // 4)),
             label=np.array(["p", "q"] * (n // 2)))
    out = train(capsys, tmp_path / "d.npz", tmp_path / "m.nns", "--target", "label")
    assert "kind: text, 2 categories -> one-hot, 20 empty -> most frequent '" in out
    assert cli.main(["predict", str(tmp_path / "m.nns"), str(tmp_path / "d.npz")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == n + 1


def test_the_tables_benchmark_on_one_table(import_benchmark, tmp_path):
    """benchmarks/tables.py end to end on the penguins (with the `tables` extra installed)."""
    pytest.importorskip("palmerpenguins")
    pytest.importorskip("sklearn")
    pytest.importorskip("pandas")
    if shutil.which("nnscratch") is None:
        pytest.skip("the nnscratch entry point is not installed")
    bench = import_benchmark("tables")
    package, member, target, _ = bench.TABLES["penguins"]
    assert bench.split_csv(bench.package_file(package, member), tmp_path) == 344
    task, ours, _, line, stopping = bench.run_nnscratch(str(tmp_path), target)
    assert task == "classify" and ours > 0.9 and "sex: text, 2 categories" in line and stopping
    theirs = bench.run_sklearn(str(tmp_path), target, task)
    assert min(theirs.values()) > 0.9
