"""Each demo's headline number, as the demo computes it (fewer epochs where that keeps the suite fast),
its pictures, and the ``deepfin demo`` command line."""

import gzip

import numpy as np
import pytest

from deepfin import cli, demos
from deepfin.datasets import digits, mnist
from tests.pictures import assert_not_blank


def _pictures(folder, names):
    for name in names:
        assert_not_blank(folder / name)


def test_logistic_reproduces_the_seeds_loss_trace_exactly(tmp_path):
    result = demos.run("logistic", out=tmp_path)
    assert result["first_loss"] == pytest.approx(0.822322582088, abs=1e-12)
    assert result["last_loss"] == pytest.approx(0.203407060401, abs=1e-12)
    assert result["max_difference"] < 1e-12
    _pictures(tmp_path, ["loss.png"])


def test_moons_under_fit_right_and_over_fit(tmp_path):
    result = demos.run("moons", out=tmp_path)
    one, three, five_hundred = result[1], result[3], result[500]
    assert one["test_accuracy"] < three["test_accuracy"] - 0.05      # one unit cannot bend the boundary
    assert three["test_accuracy"] > 0.95
    assert five_hundred["train_accuracy"] == 1.0 > three["train_accuracy"]  # 500 units fit the noise...
    assert five_hundred["test_accuracy"] < three["test_accuracy"]           # ...and generalise worse
    _pictures(tmp_path, ["boundaries.png"])


def test_circles_reach_99_percent_with_both_optimizers(tmp_path):
    result = demos.run("circles", out=tmp_path)
    assert result["momentum SGD"]["val_accuracy"] > 0.99
    assert result["RMSprop"]["val_accuracy"] > 0.99
    _pictures(tmp_path, ["boundary.png", "hidden_3d.png", "history.png"])


def test_classification_matches_the_seeds_numpy_network(tmp_path):
    result = demos.run("classification", out=tmp_path, quick=True)
    assert result["max_difference"] < 1e-7
    assert result["last_loss"] < 0.5 * result["first_loss"]
    assert result["test_accuracy"] > 0.9
    _pictures(tmp_path, ["history.png", "roc.png"])


def test_spiral_linear_fails_hidden_layer_reaches_97_percent(tmp_path):
    result = demos.run("spiral", out=tmp_path, quick=True)
    assert result["linear_accuracy"] < 0.6
    assert result["hidden_accuracy"] >= 0.97
    assert result["test_accuracy"] >= 0.9
    _pictures(tmp_path, ["boundaries.png", "history.png"])


def test_universal_approximator_costs_match_the_seed(tmp_path):
    result = demos.run("universal", out=tmp_path)
    assert result["sigmoid_cost"] == pytest.approx(0.078198, abs=5e-6)  # the seed's construction, same cost
    assert result["mlp_cost"] <= 0.078
    _pictures(tmp_path, ["fit.png"])


def _fake_mnist(folder):
    """MNIST-format files made of scikit-learn's digits, scaled up to 28x28."""
    X, y = digits()
    images = np.pad(np.kron(X.reshape(-1, 8, 8), np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
    images = (images * 255).astype(np.uint8)
    splits = {"x_train": images[:1400], "y_train": y[:1400].astype(np.uint8),
              "x_test": images[1400:], "y_test": y[1400:].astype(np.uint8)}
    for key, name in mnist.IDX_FILES.items():
        array = splits[key]
        header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
        with gzip.open(folder / f"{name}.gz", "wb") as stream:
            stream.write(header + array.tobytes())


def test_digits_hidden_layer_beats_softmax_regression_and_mnist_files_are_used(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _fake_mnist(data)
    result = demos.run("digits", out=tmp_path / "out", quick=True, mnist_path=data)
    assert result["digits_hidden"] >= 0.95
    assert result["digits_hidden"] > result["digits_softmax"]
    assert result["digits_regularized"] >= 0.95
    assert result["mnist_hidden"] > 0.85 and result["mnist_softmax"] > 0.8
    _pictures(tmp_path / "out", ["confusion_softmax.png", "confusion_hidden.png", "confusion_regularized.png",
                                 "weights_softmax.png", "mnist_confusion_hidden.png", "mnist_weights_softmax.png"])


def test_bank_hand_examples_and_regression(tmp_path):
    result = demos.run("bank", out=tmp_path, quick=True)
    assert result["hidden_values"] == [5, 1] and result["prediction"] == 9
    assert result["tanh_prediction"] == pytest.approx(1.2382242525694254, abs=1e-15)
    assert result["slope"] == -24 and result["updated_weight"] == pytest.approx(2.24)
    assert result["gradient"] == [30, 40] and result["updated_error"] == pytest.approx(2.5)
    assert result["backprop_slopes"] == [6, 18]
    assert result["network_mse"] < 0.5 * result["linear_mse"]     # the interaction a line cannot draw
    assert result["network_mse"] > result["floor_mse"]            # nothing beats the noise floor
    _pictures(tmp_path, ["fit.png"])


def test_learning_rates_and_capacity_table(tmp_path):
    result = demos.run("learning-rates", out=tmp_path, quick=True)
    histories = result["final_loss"]
    assert set(histories) == {"lr=1e-06", "lr=0.01", "lr=1"}
    capacity = result["capacity"]
    assert [(r["hidden_layers"], r["nodes"]) for r in capacity] == [(1, 100), (1, 250), (2, 250), (3, 250), (3, 200)]
    assert all(np.isfinite(r["val_mse"]) for r in capacity) and capacity[-1]["next_step"] == "done"
    _pictures(tmp_path, ["learning_rates.png", "capacity.png"])


def test_tiny_learning_rate_barely_moves_and_001_learns():
    histories = demos.module("learning-rates").learning_rate_experiment(epochs=3)
    tiny = histories["lr=1e-06"].history["loss"]
    assert abs(tiny[-1] - tiny[0]) < 0.01 * tiny[0]
    assert histories["lr=0.01"].history["loss"][-1] < 0.6 * tiny[-1]


def test_vanishing_gradients_naive_sigmoid_does_not_learn_he_and_batchnorm_do(tmp_path, capsys):
    result = demos.run("vanishing-gradients", out=tmp_path, quick=True)
    naive, glorot = result["naive"], result["glorot"]
    # naive N(0, 0.05): each layer passes back ~sqrt(64) * 0.05 * 0.25 = 0.1, so ~1e8 over 8 layers (quick: 9e7)
    assert naive["ratio"] > 1e6 and naive["first_layer_grad"] < 1e-6
    assert glorot["ratio"] > 1e3 and glorot["ratio"] < naive["ratio"] / 100  # ~4x per layer: 6e4
    assert naive["accuracy"] < 0.15 and glorot["accuracy"] < 0.15  # chance is 0.10
    for name, floor in (("tanh", 0.9), ("he", 0.85), ("batchnorm", 0.7)):  # quick: 0.96, 0.92, 0.92
        assert result[name]["accuracy"] > floor and result[name]["train_accuracy"] > 0.9, name
        assert 0.1 < result[name]["ratio"] < 10, name  # the gradient reaches the first layer undiminished
    # (batchnorm's floor is lower: its test accuracy jumps between epochs, as the demo's docstring says)
    assert 0 < result["he"]["worst_units"] < 0.5  # some ReLU units die, most live
    assert "naive " in capsys.readouterr().out
    _pictures(tmp_path, ["gradient_flow.png", "learning_curves.png"])


def test_sequence_memory_only_the_lstm_carries_the_shock(tmp_path, capsys, compiled_kernels):
    # on the kernels, as the demo runs by default: when the LSTM leaves its plateau (epoch 10 of the quick run) is
    # chaotic, and the eager engine's float32 rounding, equal to the kernels' for 9 epochs, moves it past epoch 10
    result = demos.run("sequence-memory", out=tmp_path, quick=True)
    assert result["window"]["accuracy"] < 0.56  # the shock is not in its inputs: a coin
    assert result["rnn"]["accuracy"] < 0.6 and result["lstm"]["accuracy"] > 0.75  # quick: 0.50 and 0.83
    # the window's output cannot depend on the first move; the trained LSTM's does, the trained RNN's hardly
    assert result["window"]["first_move_gradient"] == 0 and result["window"]["first_move_effect"] == 0
    assert result["lstm"]["first_move_effect"] > 0.3 and result["rnn"]["first_move_effect"] < 0.05
    # at initialization both recurrent networks pass back from 39 steps orders of magnitude less than from 0
    for network in ("rnn", "lstm"):
        assert result[network]["first_move_gradient"] < 1e-2 * result[network]["last_move_gradient"]
    assert "lstm" in capsys.readouterr().out
    _pictures(tmp_path, ["gradient_through_time.png", "learning_curves.png"])


def test_demo_list_names_every_demo(capsys):
    assert cli.main(["demo", "--list"]) == 0
    listing = capsys.readouterr().out
    for name in demos.NAMES:
        assert f"  {name} " in listing and demos.summary(name) in listing


def test_demo_help_explains_the_demo(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "spiral", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "softmax regression fails" in text and "--out DIR" in text and "--quick" in text


def test_unknown_demo_lists_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "mnist"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'mnist'" in error and "'learning-rates'" in error
    with pytest.raises(ValueError, match="Available demos: logistic, moons"):
        demos.run("mnist")


def test_command_line_runs_a_demo_into_its_folder(tmp_path, capsys):
    assert cli.main(["demo", "logistic", "--out", str(tmp_path)]) == 0
    assert "0.203407060401" in capsys.readouterr().out
    assert_not_blank(tmp_path / "loss.png")


def test_a_demo_adds_its_own_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo", "digits", "--help"])
    assert "--mnist DIR" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["demo", "moons", "--mnist", "somewhere"])
    assert "unrecognized arguments: --mnist" in capsys.readouterr().err
