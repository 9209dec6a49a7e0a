"""Time-series forecasting with a recurrent network: yearly sunspot numbers, one year ahead.

Data: the yearly mean sunspot numbers 1700-2008 that statsmodels ships
(``statsmodels.datasets.sunspots``, 309 values). The series follows the solar cycle of about
eleven years, with cycles of uneven height and length, which is what makes it a classic test.

1. Sliding windows: the ``window`` values of years t-window ... t-1 (20 by default) are the
   input, the value of year t the target, so each sample is a (window, 1) sequence.
2. Chronological split: the last ``test_share`` of the targets (22%, the years 1945-2008 by
   default) are held out; no window of the training set reaches into them.
3. Scaling with training statistics only: :math:`z = (s - \\mu) / \\sigma` with the mean and
   standard deviation of the years the training windows cover.
4. A GRU (16 units) reads each window and a Dense layer maps its last state to the next year's
   value (mean squared error, Adam, learning rate 3e-3, 100 epochs of batches of 32). These
   settings were chosen on a validation period inside the training years (the last 40
   training targets, 1905-1944, with the model trained on the years before them); the
   held-out years are never used to choose anything. Larger models trained for longer fit
   the training years better and forecast worse.
5. One-step-ahead forecasts on the held-out years, scored in sunspot numbers by RMSE and MAE
   beside three baselines that need no training:

   - naive: next year equals this year, :math:`\\hat s_t = s_{t-1}`;
   - seasonal: the value one solar cycle earlier, :math:`\\hat s_t = s_{t-p}` with
     :math:`p = 11` years (the mean length of the cycle; the periodogram of the training years
     peaks there too, and the script prints its peak);
   - linear autoregression: least squares on the same windows (an AR(``window``) model), to
     show what a linear model of the same inputs achieves.

Run ``python examples/sunspots_forecast.py --out examples/output``; it prints the table and
writes ``sunspots_forecast.png`` (forecast vs actual over the held-out years, the training fit
faintly, and the loss curves).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import nnscratch as ns
from nnscratch.plots import pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"


def load_sunspots():
    """``(years, values)``: the yearly sunspot numbers 1700-2008 from statsmodels."""
    from statsmodels.datasets import sunspots

    data = sunspots.load_pandas().data
    return data["YEAR"].to_numpy(dtype=np.int64), data["SUNACTIVITY"].to_numpy(dtype=np.float64)


def make_windows(series, window):
    """Inputs (N, window) and targets (N,): ``x[i] = series[i:i+window]``, ``y[i] = series[i+window]``."""
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1 or len(series) <= window or window < 1:
        raise ns.errors.ShapeError(f"make_windows needs a 1-D series longer than window={window}, "
                                   f"got shape {series.shape}")
    n = len(series) - window
    index = np.arange(window)[None, :] + np.arange(n)[:, None]
    return series[index], series[window:]


def split_point(n_targets, test_share):
    """Index of the first held-out target: the last ``test_share`` of them are held out."""
    if not 0 < test_share < 1:
        raise ns.errors.ConfigError(f"test_share must be in (0, 1), got {test_share}")
    n_test = round(n_targets * test_share)
    if n_test < 1 or n_test >= n_targets:
        raise ns.errors.DataError(f"test_share={test_share} of {n_targets} targets leaves no "
                                  "training or no held-out target")
    return n_targets - n_test


def naive_forecast(series, window):
    """Last value: the forecast of ``series[t]`` is ``series[t-1]``, for every target t >= window."""
    series = np.asarray(series, dtype=np.float64)
    return series[window - 1:-1]


def seasonal_forecast(series, window, period):
    """Value one period earlier: the forecast of ``series[t]`` is ``series[t-period]``."""
    if not 1 <= period <= window:
        raise ns.errors.ConfigError(f"the seasonal period must be between 1 and the window "
                                    f"({window}) so every target has a value a period earlier, "
                                    f"got {period}")
    series = np.asarray(series, dtype=np.float64)
    return series[window - period:len(series) - period]


def dominant_period(values):
    """The period (in steps) of the largest peak of the periodogram of ``values`` (mean removed)."""
    values = np.asarray(values, dtype=np.float64)
    power = np.abs(np.fft.rfft(values - values.mean())) ** 2
    freqs = np.fft.rfftfreq(len(values))
    peak = 1 + int(np.argmax(power[1:]))            # skip frequency 0
    return 1.0 / freqs[peak]


def rmse(prediction, actual):
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(prediction) - np.asarray(actual)) ** 2)))


def mae(prediction, actual):
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(prediction) - np.asarray(actual))))


def linear_autoregression(x_train, y_train, x):
    """Least-squares AR model ``y = x w + b`` fitted on the training windows, applied to ``x``."""
    design = np.column_stack([x_train, np.ones(len(x_train))])
    coef, *_ = np.linalg.lstsq(design, y_train, rcond=None)
    return np.column_stack([x, np.ones(len(x))]) @ coef


def build_model(units=16, cell="gru", learning_rate=3e-3, seed=0):
    """GRU (or LSTM) over the window, then a linear read-out of its last state."""
    layer = {"gru": ns.GRU, "lstm": ns.LSTM}[cell]
    optimizer = (ns.optimizers.Adam(learning_rate=learning_rate)
                 if hasattr(ns.optimizers, "Adam")
                 else ns.optimizers.SGD(learning_rate=learning_rate * 10, momentum=0.9))
    return ns.Network([layer(units), ns.Dense(1)], loss="mse", optimizer=optimizer, seed=seed)


def prepare(window=20, test_share=0.22):
    """Windows, split and scaling; returns a dict with everything the run and the plot need."""
    years, values = load_sunspots()
    x, y = make_windows(values, window)
    cut = split_point(len(y), test_share)
    # training statistics: the years the training windows and targets cover, nothing later
    train_span = values[:cut + window]
    mean, std = float(train_span.mean()), float(train_span.std())
    scale = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return {"years": years, "values": values, "window": window, "cut": cut, "mean": mean,
            "std": std, "target_years": years[window:],
            "x_train": scale(x[:cut])[..., None], "y_train": scale(y[:cut])[:, None],
            "x_test": scale(x[cut:])[..., None], "y_test": scale(y[cut:])[:, None],
            "raw_x": x, "raw_y": y}


def run(epochs=100, batch_size=32, units=16, cell="gru", window=20, test_share=0.22, period=11,
        learning_rate=3e-3, seed=0, out=DEFAULT_OUT, verbose=True):
    """Train, forecast, score and draw; returns a dict of the scores and the figure path."""
    data = prepare(window, test_share)
    cut, mean, std = data["cut"], data["mean"], data["std"]
    net = build_model(units, cell, learning_rate, seed)
    history = net.fit(data["x_train"], data["y_train"], epochs=epochs, batch_size=batch_size,
                      verbose=0, validation_data=(data["x_test"], data["y_test"]))
    unscale = lambda z: z.reshape(-1).astype(np.float64) * std + mean  # noqa: E731
    fit_train = unscale(net.predict(data["x_train"]))
    forecast = unscale(net.predict(data["x_test"]))

    actual = data["raw_y"][cut:]
    values = data["values"]
    forecasts = {
        f"{cell.upper()} ({units} units)": forecast,
        "naive (last value)": naive_forecast(values, window)[cut:],
        f"seasonal ({period} years earlier)": seasonal_forecast(values, window, period)[cut:],
        f"linear AR({window})": linear_autoregression(data["raw_x"][:cut], data["raw_y"][:cut],
                                                      data["raw_x"][cut:]),
    }
    scores = {name: {"rmse": rmse(f, actual), "mae": mae(f, actual)} for name, f in forecasts.items()}
    model_name = next(iter(forecasts))
    peak = dominant_period(values[:cut + window])

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "sunspots_forecast.png"
    plot_forecast(data, fit_train, forecasts, scores, history, figure)
    results = {"scores": scores, "model": model_name, "model_rmse": scores[model_name]["rmse"],
               "naive_rmse": scores["naive (last value)"]["rmse"],
               "model_mae": scores[model_name]["mae"],
               "naive_mae": scores["naive (last value)"]["mae"], "periodogram_peak": peak,
               "test_years": (int(data["target_years"][cut]), int(data["target_years"][-1])),
               "n_train": cut, "n_test": len(actual), "history": history.history,
               "forecast": forecast, "actual": actual, "figure": figure}
    if verbose:
        first, last = results["test_years"]
        print(f"{cut} training windows (targets {data['target_years'][0]}-{first - 1}), "
              f"{len(actual)} held-out years {first}-{last}; window {window} years")
        print(f"scaling from the training years: mean {mean:.2f}, std {std:.2f}")
        print(f"periodogram peak of the training years: {peak:.1f} years "
              f"(seasonal baseline uses {period})")
        print("one-step-ahead forecasts of the held-out years (sunspot number):")
        print(f"  {'forecast':<28} {'RMSE':>7} {'MAE':>7}")
        for name, s in scores.items():
            print(f"  {name:<28} {s['rmse']:7.2f} {s['mae']:7.2f}")
        print(f"figure written to {figure}")
    return results


def plot_forecast(data, fit_train, forecasts, scores, history, path, context=60):
    """Forecast vs actual over the held-out years (training fit faint) and the loss curves.

    The forecast panel shows the held-out years and the ``context`` training years before them.
    """
    plt = pyplot()
    cut, years = data["cut"], data["target_years"]
    fig, (ax, ax_loss) = plt.subplots(2, 1, figsize=(10, 7.5),
                                      gridspec_kw={"height_ratios": [2.2, 1]})
    shown = years >= years[cut] - context          # the held-out years and some before them
    ax.plot(years[shown], data["raw_y"][shown], color="black", linewidth=1.0, alpha=0.35)
    ax.plot(years[:cut][shown[:cut]], fit_train[shown[:cut]], color="tab:red", linewidth=1.0,
            alpha=0.35, label="one-step fit on the training years")
    ax.plot(years[cut:], data["raw_y"][cut:], color="black", linewidth=1.6, marker="o",
            markersize=2.5, label="actual")
    names = list(forecasts)
    model = names[0]
    ax.plot(years[cut:], forecasts[model], color="tab:red", linewidth=1.6,
            label=f"{model}: RMSE {scores[model]['rmse']:.1f}")
    naive = "naive (last value)"
    ax.plot(years[cut:], forecasts[naive], color="tab:gray", linewidth=1.0, linestyle=":",
            label=f"{naive}: RMSE {scores[naive]['rmse']:.1f}")
    ax.axvline(years[cut] - 0.5, color="tab:blue", linestyle="--", linewidth=1.0)
    top = 1.12 * float(np.max(data["raw_y"][shown]))   # headroom for the labels
    ax.set_ylim(top=top)
    ax.text(years[cut] - 1.5, 0.98 * top, "training years", color="tab:blue", fontsize=9,
            ha="right", va="top")
    ax.text(years[cut] + 0.5, 0.98 * top, "held-out years", color="tab:blue", fontsize=9,
            ha="left", va="top")
    ax.set_xlabel("year")
    ax.set_ylabel("yearly mean sunspot number")
    ax.set_title("Sunspots, one-year-ahead forecasts (each from the previous "
                 f"{data['window']} actual years)")
    ax.legend(fontsize=8, loc="upper left", framealpha=0.95)

    epochs = np.arange(1, len(history.history["loss"]) + 1)
    ax_loss.plot(epochs, history.history["loss"], color="tab:blue", label="training")
    if "val_loss" in history.history:
        ax_loss.plot(epochs, history.history["val_loss"], color="tab:orange", linestyle="--",
                     label="held-out years (watched, not used to train or choose)")
    ax_loss.set_yscale("log")
    ax_loss.set_title("Loss curves", fontsize=10)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("MSE (scaled units)")
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    """Command line: ``python examples/sunspots_forecast.py [--epochs N] [--cell gru|lstm] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100, help="passes over the training windows")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--units", type=int, default=16, help="size of the recurrent state")
    parser.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    parser.add_argument("--window", type=int, default=20, help="years in each input window")
    parser.add_argument("--test-share", type=float, default=0.22,
                        help="share of the targets, from the end, held out")
    parser.add_argument("--period", type=int, default=11,
                        help="seasonal baseline: forecast the value this many years earlier")
    parser.add_argument("--lr", type=float, default=3e-3, help="learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figure")
    args = parser.parse_args(argv)
    return run(epochs=args.epochs, batch_size=args.batch_size, units=args.units, cell=args.cell,
               window=args.window, test_share=args.test_share, period=args.period,
               learning_rate=args.lr, seed=args.seed, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
