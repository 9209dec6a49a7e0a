"""nnscratch.cli.tables (reading CSV/NPZ tables), nnscratch.cli.preprocessing (task, labels, scaling)."""

import numpy as np
import pytest

from nnscratch.cli import preprocessing as prep
from nnscratch.cli import tables as tabular
from nnscratch.errors import ConfigError, DataError


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

def test_csv_columns_and_the_file_line_of_every_row(tmp_path):
    text = ('\ufeff a , b ,label\r\n'            # BOM, spaces around names, CRLF
            '1,2,x\r\n'
            '\r\n'                                # a blank line: skipped but counted
            '3, 4 ,"two\nlines"\r\n'              # a quoted cell over two lines
            '5,6,z\r\n')
    table = tabular.read_csv(write(tmp_path / "t.csv", text))
    assert table.names == ["a", "b", "label"]
    assert list(table.columns["b"]) == ["2", "4", "6"]
    assert list(table.columns["label"]) == ["x", "two\nlines", "z"]
    assert list(table.lines) == [2, 4, 6]
    assert table.where(2, "a") == "t.csv, line 6, column 'a'"
    np.testing.assert_array_equal(tabular.feature_matrix(table, ["b", "a"]),
                                  [[2, 1], [4, 3], [6, 5]])


@pytest.mark.parametrize("text, match", [
    ("", "t.csv is empty: expected a header line"),
    ("\n\n", "t.csv is empty"),
    ("a,b\n", "has a header \\(line 1\\) but no data lines"),
    ("a,b\n1,2\n3\n", "t.csv, line 3: 1 cell\\(s\\), but the header \\(line 1\\) names 2 columns"),
    ("a,b\n1,2\n\n3,4,5\n", "line 4: 3 cell"),
    ("a,a\n1,2\n", "line 1 \\(the header\\): two columns are named 'a'"),
    ("a,,c\n1,2,3\n", "line 1 \\(the header\\): column 2 has no name"),
    ("1,2,3\n4,5,6\n", "line 1: expected a header naming the columns, got numbers"),
    ('a,b\n1,2\n3,"4\n5,6\n', "t.csv, line 3: not valid CSV \\(unexpected end of data; is a "
                                "quote never closed\\?\\)"),
])
def test_csv_errors_name_the_line(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        tabular.read_csv(write(tmp_path / "t.csv", text))


def test_csv_that_is_not_utf8_or_missing(tmp_path):
    with pytest.raises(DataError, match=r"t.csv is not UTF-8 text"):
        tabular.read_csv(write(tmp_path / "t.csv", "a,b\n1,\u00e9\n", encoding="latin-1"))
    with pytest.raises(DataError, match=r"cannot read data file .*nothing.csv"):
        tabular.read_table(tmp_path / "nothing.csv")


def parse_cell_loop(cell):
    """Plain-loop reference for one cell: Python's float, finite, or None."""
    try:
        value = float(cell.strip())
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def test_numeric_column_matches_a_per_cell_loop(tmp_path, rng):
    spellings = ["1", "-2.5", " 3e-3", "+.5", "1_000", "7.", "0", "-0", "1E2"]
    cells = [spellings[i] for i in rng.integers(0, len(spellings), 200)]
    text = "v,w\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells))
    table = tabular.read_csv(write(tmp_path / "t.csv", text))
    values = tabular.numeric_column(table, "v")
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [parse_cell_loop(c) for c in cells])


@pytest.mark.parametrize("cell, message", [
    ("", "empty cell, expected a number"),
    ("   ", "empty cell, expected a number"),
    ("abc", "expected a number, got 'abc'"),
    ("1,5", None),                          # a comma makes a ragged row instead
    ("nan", "expected a finite number, got 'nan'"),
    ("-inf", "expected a finite number, got '-inf'"),
    ("1e999", "expected a finite number, got '1e999'"),
])
def test_numeric_column_names_the_first_bad_cell(tmp_path, cell, message):
    text = f"a,b\n1,2\n3,4\n\n5,{cell}\n6,bad\n"
    table_path = write(tmp_path / "t.csv", text)
    if message is None:
        with pytest.raises(DataError, match="line 5: 3 cell"):
            tabular.read_csv(table_path)
        return
    table = tabular.read_csv(table_path)
    with pytest.raises(DataError) as info:
        tabular.numeric_column(table, "b")
    assert str(info.value) == f"t.csv, line 5, column 'b': {message}"


def test_a_long_bad_cell_is_quoted_on_one_line(tmp_path):
    table = tabular.read_csv(write(tmp_path / "t.csv", 'a,b\n1,"' + "x\n" * 50 + '"\n'))
    with pytest.raises(DataError) as info:
        tabular.numeric_column(table, "b")
    assert "\n" not in str(info.value) and len(str(info.value)) < 120


def test_select_features_any_order_ignoring_the_target(tmp_path):
    table = tabular.read_csv(write(tmp_path / "t.csv", "c,y,a,b\n3,0,1,2\n"))
    assert tabular.select_features(table, ["a", "b", "c"], ignore={"y"}) == ["a", "b", "c"]
    with pytest.raises(DataError, match="has 3 feature column\\(s\\), the model expects 4: it "
                                        "lacks 'd'"):
        tabular.select_features(table, ["a", "b", "c", "d"], ignore={"y"})
    with pytest.raises(DataError, match="has 4 feature column\\(s\\), the model expects 3: the "
                                        "model was not trained on 'y'"):
        tabular.select_features(table, ["a", "b", "c"])


def test_require_lists_the_columns(tmp_path):
    table = tabular.read_csv(write(tmp_path / "t.csv", "a,b\n1,2\n"))
    with pytest.raises(DataError, match=r"t.csv has no target column 'y'; its columns are: "
                                        r"'a', 'b'"):
        table.require("y", "target column")


# ---------------------------------------------------------------------------------------------
# NPZ
# ---------------------------------------------------------------------------------------------

def test_npz_with_x_and_y(tmp_path):
    x = np.arange(12.0).reshape(4, 3)
    np.savez(tmp_path / "d.npz", x=x, y=np.array(["a", "b", "a", "b"]))
    table = tabular.read_table(tmp_path / "d.npz")
    assert table.names == ["x0", "x1", "x2", "y"] and table.lines is None
    np.testing.assert_array_equal(tabular.feature_matrix(table, ["x0", "x1", "x2"]), x)
    assert list(prep.target_labels(table, "y")) == ["a", "b", "a", "b"]
    x[2, 1] = np.nan
    np.savez(tmp_path / "d.npz", x=x, feature_names=np.array(["p", "q", "r"]))
    table = tabular.read_table(tmp_path / "d.npz")
    assert table.names == ["p", "q", "r"]
    with pytest.raises(DataError, match=r"d.npz, x\[2, 1\] \(column 'q'\): expected a finite "
                                        r"number, got 'nan'"):
        tabular.feature_matrix(table, ["p", "q", "r"])


def test_npz_with_named_columns(tmp_path):
    np.savez(tmp_path / "d.npz", height=np.array([1.0, 2.0]), kind=np.array([[3], [4]]))
    table = tabular.read_table(tmp_path / "d.npz")
    assert table.names == ["height", "kind"]
    assert table.where(1, "kind") == "d.npz, kind[1] (column 'kind')"
    assert list(prep.target_labels(table, "kind")) == ["3", "4"]


@pytest.mark.parametrize("arrays, match", [
    ({}, "holds no arrays"),
    ({"x": np.zeros((0, 2))}, "holds no rows"),
    ({"x": np.zeros((3, 2, 2))}, "'x' must be \\(samples, features\\)"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, "'y' has 4 rows but 'x' has 3"),
    ({"x": np.zeros((3, 2)), "w": np.zeros(3)}, "holds 'x' and also 'w'"),
    ({"x": np.zeros((3, 2)), "feature_names": np.array(["a"])}, "1 names for the 2 columns"),
    ({"a": np.zeros(3), "b": np.zeros(2)}, "column 'b' has 2 rows but 'a' has 3"),
    ({"a": np.zeros((3, 2))}, "array 'a' must be one column"),
    ({"a": np.array([1 + 2j])}, "array 'a' has dtype complex128"),
])
def test_npz_errors(tmp_path, arrays, match):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError, match=match):
        tabular.read_npz(tmp_path / "d.npz")


def test_npz_object_arrays_and_broken_archives_are_refused(tmp_path):
    np.savez(tmp_path / "o.npz", a=np.array([1, "x", None], dtype=object))
    with pytest.raises(DataError, match=r"o.npz is not a readable .npz archive"):
        tabular.read_npz(tmp_path / "o.npz")
    (tmp_path / "z.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"z.npz is not a readable .npz archive"):
        tabular.read_npz(tmp_path / "z.npz")


# ---------------------------------------------------------------------------------------------
# Task inference and class labels
# ---------------------------------------------------------------------------------------------

def table_of(tmp_path, values, name="t"):
    text = "f,t\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))
    return tabular.read_csv(write(tmp_path / f"{name}.csv", text))


@pytest.mark.parametrize("values, task, phrase", [
    (["cat", "dog", "cat", "dog"], "classify", "holds text (e.g. 'cat')"),
    (["1", "2", "x", "1"], "classify", "holds text (e.g. 'x')"),
    (["0", "1", "1", "0", "1", "0"], "classify", "holds 2 distinct whole numbers in 6 rows"),
    (["3.0", "4", "3", "4.0"], "classify", "holds 2 distinct whole numbers"),
    (["0.5", "1", "2", "3"], "regress", "numbers that are not whole (e.g. 0.5)"),
    ([str(i) for i in range(30)], "regress", "holds 30 distinct whole numbers in 30 rows"),
    (["1", "2", "3", "4"], "regress", "holds 4 distinct whole numbers in 4 rows"),
])
def test_infer_task_says_why(tmp_path, values, task, phrase):
    got, reason = prep.infer_task(table_of(tmp_path, values), "t")
    assert got == task and phrase in reason


@pytest.mark.parametrize("values, match", [
    (["a", "", "b"], "t.csv, line 3, column 't': empty cell"),
    (["1", "nan", "2"], "t.csv, line 3, column 't': expected a finite number, got 'nan'"),
])
def test_infer_task_rejects_empty_and_nan_targets(tmp_path, values, match):
    with pytest.raises(DataError, match=match):
        prep.infer_task(table_of(tmp_path, values), "t")


def test_classes_sort_numbers_by_value_and_text_as_text():
    assert prep.fit_classes(["10", "9", "2", "9"]) == ["2", "9", "10"]
    assert prep.fit_classes(["b", "B", "a", "10"]) == ["10", "B", "a", "b"]
    with pytest.raises(DataError, match="at least two classes, the target holds only 'x'"):
        prep.fit_classes(["x", "x"])


def test_encode_labels_matches_a_loop_and_decodes_back(rng):
    classes = ["setosa", "versicolor", "virginica"]
    labels = np.array([classes[i] for i in rng.integers(0, 3, 100)])
    codes = prep.encode_labels(labels, classes)
    assert codes.dtype == np.int64
    assert list(codes) == [classes.index(label) for label in labels]
    assert list(prep.decode_labels(codes, classes)) == list(labels)


def test_an_unknown_label_names_its_line(tmp_path):
    table = table_of(tmp_path, ["a", "b", "c", "a"])
    labels = prep.target_labels(table, "t")
    with pytest.raises(DataError, match=r"t.csv, line 4, column 't': label 'c' is not one of the 2 "
                                        r"classes the model knows \('a', 'b'\)"):
        prep.encode_labels(labels, ["a", "b"], table, "t")


# ---------------------------------------------------------------------------------------------
# Standardisation and the split
# ---------------------------------------------------------------------------------------------

def test_standardization_matches_a_loop_and_keeps_constant_columns_finite(rng, no_warnings):
    x = rng.normal(3.0, 5.0, size=(40, 4))
    x[:, 2] = 7.0
    mean, std = prep.fit_standardization(x)
    for j in range(4):
        column = [row[j] for row in x]
        mu = sum(column) / len(column)
        sigma = (sum((v - mu) ** 2 for v in column) / len(column)) ** 0.5
        assert mean[j] == pytest.approx(mu, rel=1e-12)
        assert std[j] == pytest.approx(sigma if sigma > 0 else 1.0, rel=1e-12)
    z = prep.standardize(x, mean, std)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), [1, 1, 0, 1], atol=1e-5)
    assert prep.standardize(x, mean, std, dtype=np.float64).dtype == np.float64
    np.testing.assert_allclose(prep.unstandardize(prep.standardize(x, mean, std, np.float64),
                                                  mean, std), x, rtol=1e-12)
    with pytest.raises(DataError, match="expects 4 features, got 3"):
        prep.standardize(x[:, :3], mean, std)


def test_split_is_seeded_disjoint_and_stratified():
    classes = np.repeat([0, 1, 2], [50, 30, 20])          # sorted by class, like many files
    train, val = prep.split_indices(100, 0.2, seed=3, classes=classes)
    assert len(set(train) | set(val)) == 100 and not set(train) & set(val)
    assert np.bincount(classes[val]).tolist() == [10, 6, 4]
    again = prep.split_indices(100, 0.2, seed=3, classes=classes)
    np.testing.assert_array_equal(again[1], val)
    other = prep.split_indices(100, 0.2, seed=4, classes=classes)
    assert not np.array_equal(other[1], val)
    train, val = prep.split_indices(10, 0.3, seed=0)
    assert len(val) == 3 and len(train) == 7
    train, val = prep.split_indices(10, 0, seed=0)
    assert len(train) == 10 and len(val) == 0


def test_split_errors():
    with pytest.raises(DataError, match="leaves no validation row"):
        prep.split_indices(3, 0.1, seed=0)
    with pytest.raises(ConfigError, match=r"fraction in \[0, 1\), got 1.5"):
        prep.split_indices(10, 1.5)
