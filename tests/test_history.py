"""History (nnxp/history.py): network2's four lists, records, JSON, pickling."""

import numpy as np
import pytest

import nnxp
from conftest import params_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((100, 6)), RNG.integers(0, 3, 100)
XV, YV = RNG.random((40, 6)), RNG.integers(0, 3, 40)


def test_history_round_trips_and_unpacks_like_network2(tmp_path, backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 2, 10, 0.5, evaluation_data=(XV, YV), monitor_evaluation_cost=True,
                monitor_evaluation_accuracy=True, monitor_training_cost=True,
                monitor_training_accuracy=True)
    ec, ea, tc, ta = h
    assert len(ec) == len(ea) == len(tc) == len(ta) == 2
    assert all(0 <= a <= 100 for a in ta) and all(0 <= a <= 40 for a in ea)
    h.save(tmp_path / "h.json")
    import json
    back = nnxp.History.from_dict(json.loads((tmp_path / "h.json").read_text()))
    assert tuple(back) == tuple(h) and back.records == h.records


def test_history_pickles_with_its_content():
    import pickle
    h = nnxp.History([{"epoch": 0, "eta": 0.5, "seconds": 0.1, "evaluation_accuracy": 7,
                       "training_cost": 0.3}], stop_reason="done")
    back = pickle.loads(pickle.dumps(h))
    assert back.evaluation_accuracy == [7] and back.training_cost == [0.3]
    assert back.records == h.records and back.stop_reason == "done"


def test_progress_lines_in_every_style():
    record = {"epoch": 2, "eta": 0.5, "seconds": 0.25, "training_cost": 0.5,
              "evaluation_accuracy": 7}
    assert nnxp.history.progress_line(record, 100, 40) == (
        "Epoch 2 training complete (0.25 s); cost on training data: 0.5000; accuracy on "
        "evaluation data: 7 / 40")
    assert nnxp.history.progress_line(record, 100, 40, style="network2") == (
        "Epoch 2 training complete\nCost on training data: 0.5\n"
        "Accuracy on evaluation data: 7 / 40\n")
    assert nnxp.history.progress_line(record, 100, 40, style="network") == "Epoch 2: 7 / 40"
    assert nnxp.history.progress_line({"epoch": 0}, 100, style="network") == "Epoch 0 complete"


def test_a_population_epoch_line_names_the_best_member():
    records = [{"epoch": 1, "seconds": 0.5, "evaluation_accuracy": a} for a in (3, 9, 6)]
    assert nnxp.history.members_line(records, [True, True, False], 10) == (
        "Epoch 1 (0.50 s, 2 of 3 members trained); accuracy on evaluation data: best 9 / 10 "
        "(member 1), mean 6.0")
    assert nnxp.history.members_line(records[:1], [False], None) == (
        "Epoch 1 (0.50 s, 0 of 1 members trained)")


def test_interval_line():
    entry = {"epoch": 0, "mini_batches": 5, "evaluation_accuracy": 4, "evaluation_cost": 0.25,
             "n": 20}
    assert nnxp.history.interval_line(entry) == (
        "  epoch 0, mini-batch 5: accuracy 4 / 20, cost 0.2500")


@pytest.mark.parametrize("d,field", [
    ([], r"\(the whole\)"), (None, r"\(the whole\)"), ("abc", r"\(the whole\)"),
    ({"records": 5}, "records"), ({"records": "abc"}, "records"),
    ({"records": {"epoch": 0}}, "records"), ({"records": [1, 2]}, r"records\[0\]"),
    ({"records": [None]}, r"records\[0\]"), ({"records": [{"eta": 0.1}]}, r"records\[0\].epoch"),
    ({"records": [{"epoch": 0, "evaluation_accuracy": "9"}]},
     r"records\[0\].evaluation_accuracy"),
    ({"records": [], "intervals": 5}, "intervals"), ({"records": [], "intervals": "ab"},
                                                     "intervals"),
    ({"records": [], "compile_seconds": "x"}, "compile_seconds"),
    ({"records": [], "stop_reason": 5}, "stop_reason"),
])
def test_from_dict_refuses_what_is_not_a_saved_history(d, field):
    """from_dict read anything: AttributeError / TypeError from inside, or a History of the
    letters of a string, of records without epochs, of text for accuracies."""
    with pytest.raises(nnxp.DataError, match=f"History.from_dict: field {field} must be"):
        nnxp.History.from_dict(d)


@pytest.mark.parametrize("bad", [5, "ab", [1], [None], {"epoch": 0}])
def test_history_and_append_refuse_records_that_are_not_dicts(bad):
    with pytest.raises(nnxp.InputTypeError, match="History's records must be a list of dicts"):
        nnxp.History(bad)
    with pytest.raises(nnxp.InputTypeError, match="History's intervals must be a list of"):
        nnxp.History(intervals=bad)
    if not isinstance(bad, (list, dict)):
        with pytest.raises(nnxp.InputTypeError, match="a History record is a dict"):
            nnxp.History().append(bad)


def test_numpy_values_a_callback_adds_are_saved_as_numbers(tmp_path, backend):
    """A callback adding np.float32 to its record: History.save and every checkpoint met
    json's bare TypeError (the checkpoint's after the first epoch's work)."""
    import json

    def mine(record, net):
        record["mine"] = np.float32(0.5)
        record["count"] = np.int64(3)

    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 2, 10, 0.5, callbacks=[mine], checkpoint=tmp_path / "run.json")
    h.save(tmp_path / "h.json")
    back = nnxp.History.from_dict(json.loads((tmp_path / "h.json").read_text()))
    assert [(r["mine"], r["count"]) for r in back.records] == [(0.5, 3), (0.5, 3)]
    assert nnxp.load(tmp_path / "run.json").resume((X, Y), epochs=3).records[1]["mine"] == 0.5


def test_a_value_json_cannot_hold_is_refused_and_nothing_is_written(tmp_path, backend):
    h = nnxp.History([{"epoch": 0, "eta": 0.5, "seconds": 0.1, "mine": object()}])
    (tmp_path / "h.json").write_text("old")
    with pytest.raises(nnxp.InputTypeError, match="which JSON cannot store"):
        h.save(tmp_path / "h.json")
    assert (tmp_path / "h.json").read_text() == "old"

    def bad(record, net):
        record["mine"] = {1, 2}

    with pytest.raises(nnxp.InputTypeError, match="a History record holds {1, 2}"):
        nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 1, 10, 0.5, callbacks=[bad],
                                            checkpoint=tmp_path / "run.json")


def test_epoch_seconds_of_records_without_seconds():
    """A History made by hand (or read by from_dict) of records without 'seconds': KeyError."""
    h = nnxp.History([{"epoch": 0}, {"epoch": 1, "seconds": 0.5}])
    assert h.epoch_seconds == [None, 0.5]


@pytest.mark.parametrize("field,value", [("eta", "fast"), ("epoch", "one"), ("epoch", -1)])
def test_records_nnxp_could_not_read_back_are_never_written(tmp_path, backend, field, value):
    """A callback that rewrote its record's eta or epoch: History.save wrote a file that
    from_dict and nnxp.plot refuse, and the checkpoint one that nnxp.load refuses (the run
    could not be resumed).  Now a DataError naming the callback and the field, when the
    callback returns (a callback may add to its record, not change what nnxp put there), and
    nothing is written; a History holding such a record (made by hand) is not saved."""
    def rewrite(record, net):
        if record["epoch"] == 1:
            record[field] = value

    (tmp_path / "run.json").write_text("old")
    with pytest.raises(nnxp.DataError, match=rf"rewrite changed its record's field '{field}'"):
        nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 2, 10, 0.5, callbacks=[rewrite],
                                            checkpoint=tmp_path / "run.json")
    assert nnxp.load(tmp_path / "run.json").checkpoint[2] is not None   # epoch 0's, whole
    h = nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 2, 10, 0.5)
    h.records[1][field] = value
    (tmp_path / "h.json").write_text("old")
    with pytest.raises(nnxp.DataError, match=rf"History.save: field records\[1\].{field}"):
        h.save(tmp_path / "h.json")
    assert (tmp_path / "h.json").read_text() == "old"


def test_a_callback_that_removes_or_retypes_nnxps_fields_is_named(tmp_path):
    """record.clear() (was a bare KeyError 'epoch'), seconds made text with progress=True (was a
    format ValueError), in a Network's and a Population's callback."""
    for change in (lambda r: r.clear(), lambda r: r.__setitem__("seconds", "x")):
        with pytest.raises(nnxp.DataError, match="changed its record's field"):
            nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 1, 10, 0.5, progress=True,
                                                callbacks=lambda r, n: change(r))
        with pytest.raises(nnxp.DataError, match="changed its record's field"):
            nnxp.Population([6, 5, 3], seeds=[0, 1]).SGD(
                (X, Y), 1, 10, 0.5, progress=True, callbacks=lambda rs, p: change(rs[1]))
    h = nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 1, 10, 0.5,
                                            callbacks=lambda r, n: r.__setitem__("mine", 1))
    assert h.records[0]["mine"] == 1  # adding is what a callback may do


def test_what_a_checkpoint_or_history_file_could_not_be_read_back_with_is_never_written(
        tmp_path):
    """A record appended to a member's history by a callback (was: the checkpoint written,
    then refused by load_population: the run could not be resumed); a History with a NaN
    compile_seconds or a stop_reason 5 (was saved, then refused by from_dict); a record key
    that is not text or an int past str's limit (was json's bare TypeError / ValueError)."""
    def extra(records, pop):
        if records[0]["epoch"] == 1:
            pop.histories[1].records.append(dict(pop.histories[1].records[-1]))
    path = tmp_path / "pop.json"
    with pytest.raises(nnxp.DataError, match=r"checkpoint: field records\[2\]\.epoch"):
        nnxp.Population([6, 5, 3], seeds=[0, 1]).SGD((X, Y), 3, 10, 0.5, checkpoint=path,
                                                     callbacks=extra)
    assert len(nnxp.load_population(path).histories[0].records) == 1  # epoch 0's, whole
    for h in (nnxp.History([{"epoch": 0}], [], float("nan")),
              nnxp.History([{"epoch": 0}], [], 0.0, 5)):
        with pytest.raises(nnxp.DataError, match="nothing was written"):
            h.save(tmp_path / "h.json")
    assert not (tmp_path / "h.json").exists()
    for key, value in (((0, "w"), 1.0), ("big", 10 ** 5000)):
        with pytest.raises(nnxp.InputTypeError, match="JSON cannot write"):
            nnxp.History([{"epoch": 0, key: value}]).save(tmp_path / "h.json")
    assert not (tmp_path / "h.json").exists()


def test_a_callback_that_replaces_the_parameters_being_trained_is_refused():
    """net.weights = ... (or net.params, pop.params) inside a callback: a ConfigError saying
    how to change the weights (was: training went on from its own parameters and the
    change was lost without a word: a 'restore the best weights' callback did nothing)."""
    def reset(record, net):
        net.weights = [np.zeros_like(np.asarray(w)) for w in net.weights]

    def reset_all(records, pop):
        pop.params = tuple(tuple(np.zeros_like(np.asarray(a)) for a in layer)
                           for layer in pop.params)
    with pytest.raises(nnxp.ConfigError, match="reset replaced the parameters being trained"):
        nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 2, 10, 0.5, callbacks=reset)
    with pytest.raises(nnxp.ConfigError, match="reset_all replaced the parameters"):
        nnxp.Population([6, 5, 3], seeds=[0, 1]).SGD((X, Y), 2, 10, 0.5, callbacks=reset_all)
