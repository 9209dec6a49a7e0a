"""The article's network: a 3-4-1 sigmoid network learning XOR of the first two inputs.

Data: X = [[0,0,1],[0,1,1],[1,0,1],[1,1,1]] (the third column acts as a bias input) and
Y = [0,1,1,0]. The network has one hidden layer of 4 sigmoid units and a sigmoid output, the
cost is the sum of squared errors, and plain gradient descent with learning rate 1.0 runs on
the whole set at once for 2500 iterations, in float64.
"""

import itertools

import numpy as np

from .. import checks
from ..callbacks import Callback
from ..errors import MissingDependencyError
from .options import add_command, parse_widths
from .outputs import check_figure, write_figure

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y = np.array([0, 1, 1, 0], dtype=np.float64)

EPILOG = "example: nnscratch demo --activation tanh --hidden 8 --lr 0.5 --plot xor.png"


def build_network(hidden=(4,), activation="sigmoid", loss="sse", learning_rate=1.0, seed=0,
                  output_activation="sigmoid"):
    """The article's network (3 inputs, hidden sigmoid layers, 1 sigmoid output)."""
    from .. import Dense, Network, optimizers
    layers = [Dense(units, activation=activation) for units in hidden]
    layers.append(Dense(1, activation=output_activation))
    return Network(layers, loss=loss, optimizer=optimizers.SGD(learning_rate=learning_rate),
                   seed=seed, dtype="float64", input_shape=(3,))


class _PrintEvery(Callback):
    def __init__(self, every, iterations):
        super().__init__()
        self.every, self.iterations = every, iterations

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0 or (epoch + 1) % self.every == 0 or epoch + 1 == self.iterations:
            print(f"iteration {epoch + 1:5d}/{self.iterations}  loss {logs['loss']:.6f}")


def run(hidden=(4,), activation="sigmoid", loss="sse", learning_rate=1.0, iterations=2500, seed=0,
        print_every=250):
    """Train the article's network; returns ``(network, history, predictions)``."""
    net = build_network(hidden, activation, loss, learning_rate, seed)
    return (net, *train(net, iterations, print_every))


def train(net, iterations=2500, print_every=250):
    """Full-batch gradient descent on the four samples; returns ``(history, predictions)``."""
    callbacks = [_PrintEvery(print_every, iterations)] if print_every else []
    history = net.fit(X, Y, epochs=iterations, batch_size=None, verbose=0, callbacks=callbacks)
    return history, net.predict(X)[:, 0]


def add_parser(commands):
    """Register ``nnscratch demo``."""
    parser = add_command(commands, "demo", "train the article's 3-4-1 network on its four samples",
                         __doc__, EPILOG, main)
    parser.add_argument("--hidden", default="4",
                        help="hidden layer widths, comma separated (default: 4)")
    parser.add_argument("--activation", default="sigmoid",
                        help="activation of the hidden layers (default: sigmoid)")
    parser.add_argument("--loss", default="sse", help="cost function (default: sse)")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (default: 1.0)")
    parser.add_argument("--iterations", type=int, default=2500,
                        help="gradient-descent iterations (default: 2500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--plot", default="nnscratch_demo_loss.png",
                        help="where to write the loss curve PNG (default: %(default)s; '' for none)")


def main(args):
    """Run the demo from parsed command-line arguments.

    Every option, and the figure's path, is checked before anything is printed or trained.
    """
    hidden = parse_widths(args.hidden, "8,4")
    checks.positive_int(args.iterations, "--iterations")
    net = build_network(hidden, args.activation, args.loss, args.lr,
                        checks.seed(args.seed, "--seed"))
    no_plot = None
    if args.plot:
        try:
            check_figure(args.plot, "loss curve")
        except MissingDependencyError as exc:            # the demo runs without matplotlib
            no_plot = exc
    print(f"The article's network: 3-{'-'.join(map(str, hidden))}-1, {args.activation} hidden, "
          f"sigmoid output, loss {args.loss}, learning rate {args.lr:g}, full batch, "
          f"{args.iterations} iterations, seed {args.seed}")
    history, predictions = train(net, args.iterations)
    losses = history.history["loss"]
    rises = sum(1 for a, b in itertools.pairwise(losses) if b > a)
    print(f"final loss {losses[-1]:.6f}; the loss rose in {rises} of {len(losses) - 1} iterations")
    print("input        target  prediction")
    for x, y, p in zip(X, Y, predictions):
        print(f"{x.astype(int)}  {y:6.0f}  {p:10.4f}")
    if no_plot is not None:
        print(f"no loss curve: {no_plot}")
    elif args.plot:
        from ..plots import plot_history
        figure = plot_history(history, title="The article's network: loss per iteration",
                              log_scale=True, xlabel="iteration")
        write_figure(figure, args.plot, "loss curve")
        print(f"loss curve written to {args.plot}")
    return 0
