"""`make demo`: train a digit classifier on scikit-learn's 8x8 digits with nb.nn, three ways.

The same model, from the same initial parameters, is trained with

* `@nb.jit` around `nb.value_and_grad` and a functional optimizer (JAX style),
* the same step run eagerly, without jit (nabla_like fuses it lazily),
* `loss.backward()` and a stateful optimizer (PyTorch style),

then each is tested on the held-out images, their step times are compared side by side
(and PyTorch's, if it is installed), and the StableHLO of the jitted step is written to a
file. Options: `python -m nabla_like.demo --help`.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import nabla_like as nb
import nabla_like.nn.functional as F
from nabla_like import nn


def load_digits(seed: int = 0):
    """(x_train, y_train, x_test, y_test): 1,437 / 360 images of 8x8 pixels in [0, 1]."""
    try:
        from sklearn.datasets import load_digits as sk_load
    except ImportError as e:  # pragma: no cover - make demo installs it
        raise SystemExit("the demo reads scikit-learn's digits: pip install 'nabla_like[demo]'") from e
    data = sk_load()
    x = (data.images / 16.0).astype(np.float32)
    y = data.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = x[order], y[order]
    n_test = len(y) // 5
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def make_model(kind: str, key) -> nn.Module:
    k = nb.random.split(key, 3)
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128, key=k[0]), nn.ReLU(),
                             nn.Linear(128, 10, key=k[1]))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, key=k[0]), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1, key=k[1]), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(32 * 2 * 2, 10, key=k[2]))
    raise SystemExit(f"--model must be mlp or cnn, not {kind!r}")


def batches(n: int, batch: int, epoch: int, seed: int):
    order = np.random.default_rng((seed, epoch)).permutation(n)
    for i in range(0, n - batch + 1, batch):  # whole batches only: one shape, one program
        yield order[i:i + batch]


def progress(total: int, desc: str):
    """A tqdm bar where tqdm is installed, else a plain counter."""
    try:
        from tqdm import tqdm
        return tqdm(total=total, desc=desc, unit="step", leave=True, ncols=96)
    except ImportError:  # pragma: no cover
        return _PlainBar(total, desc)


class _PlainBar:
    def __init__(self, total, desc):
        self.n, self.total, self.desc, self.post = 0, total, desc, ""

    def update(self, k=1):
        self.n += k
        if self.n == self.total:
            print(f"{self.desc}: {self.n}/{self.total} steps {self.post}")

    def set_postfix_str(self, s):
        self.post = s

    def close(self):
        pass


class Trainer:
    """One style of training step over `model`: `step(x, y) -> loss`, `model_now()`."""

    def __init__(self, style: str, model: nn.Module, lr: float):
        self.style, self.model = style, model
        if style == "backward":
            self.opt = nb.optim.Adam(model.parameters(), lr=lr)
            return
        self.opt = nb.optim.Adam(lr=lr)
        self.state = self.opt.init(model)

        def step(model, state, x, y):
            loss, grads = nb.value_and_grad(lambda m: F.cross_entropy(m(x), y))(model)
            model, state = self.opt.update(grads, state, model)
            return model, state, loss
        self._step = nb.jit(step) if style == "jit" else step

    def step(self, x, y):
        if self.style == "backward":
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.opt.step()
            self.opt.zero_grad()
            return loss
        self.model, self.state, loss = self._step(self.model, self.state, x, y)
        return loss


@nb.jit
def accuracy(model, x, y):
    return nb.mean(nb.cast(nb.argmax(model(x), axis=1) == y, nb.float32))


def train(style: str, model: nn.Module, data, args) -> tuple[Trainer, list[float]]:
    x_train, y_train, x_test, y_test = data
    trainer = Trainer(style, model, args.lr)
    per_epoch = len(y_train) // args.batch_size
    bar = progress(args.epochs * per_epoch, f"{LABELS[style]:>24s}")
    losses = []
    xt, yt = nb.tensor(x_test), nb.tensor(y_test)
    for epoch in range(args.epochs):
        for idx in batches(len(y_train), args.batch_size, epoch, args.seed):
            loss = trainer.step(nb.tensor(x_train[idx]), nb.tensor(y_train[idx]))
            bar.update(1)
        losses.append(loss.item())  # read once per epoch: steps in between stay pending
        acc = accuracy(trainer.model, xt, yt).item()
        bar.set_postfix_str(f"loss {losses[-1]:.3f}  test acc {acc:.3f}")
    bar.close()
    return trainer, losses


def step_time(fn, steps: int) -> float:
    """Median seconds per call of `fn` (which reads its result, so the time is a whole step)."""
    fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def torch_step_time(kind: str, data, args):
    """(median step seconds, test accuracy) of the same model in PyTorch eager, or None."""
    try:
        import torch
    except ImportError:
        return None
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(args.seed)
    if kind == "mlp":
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 10))
    else:
        model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
                                    torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3, padding=1),
                                    torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                    torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    shape = (-1, 1, 8, 8) if kind == "cnn" else (-1, 8, 8)
    xs, ys = torch.tensor(x_train).reshape(shape), torch.tensor(y_train).long()

    def step(idx):
        loss = torch.nn.functional.cross_entropy(model(xs[idx]), ys[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    for epoch in range(args.epochs):
        for idx in batches(len(y_train), args.batch_size, epoch, args.seed):
            step(torch.tensor(idx))
    idx = torch.arange(args.batch_size)
    seconds = step_time(lambda: step(idx), args.timing_steps)
    with torch.no_grad():
        pred = model(torch.tensor(x_test).reshape(shape)).argmax(1).numpy()
    return seconds, float((pred == y_test).mean()), torch.get_num_threads()


LABELS = {"jit": "nb.jit + value_and_grad", "eager": "eager value_and_grad",
          "backward": "eager loss.backward()"}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m nabla_like.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn"], help="default: mlp")
    parser.add_argument("--epochs", type=int, default=20, help="default: 20")
    parser.add_argument("--batch-size", type=int, default=64, help="default: 64")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (3e-3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timing-steps", type=int, default=100,
                        help="steps timed per style after training (default: 100)")
    parser.add_argument("--out", default=os.path.join("build", "demo"),
                        help="where the jitted step's StableHLO is written (default: build/demo)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = load_digits(args.seed)
    x_train, y_train, x_test, y_test = data
    if args.model == "cnn":
        data = tuple(x[:, None] if x.ndim == 3 else x for x in data)
        x_train, y_train, x_test, y_test = data
    print(f"nabla_like {nb.__version__} on {nb.get_default_device()}: scikit-learn's digits, "
          f"{len(y_train)} training and {len(y_test)} test images of 8x8 pixels")
    print(f"model: {args.model}, Adam lr {args.lr}, {args.epochs} epochs of batch {args.batch_size}; "
          f"the same initial parameters for every style\n")

    results = {}
    for style in ("jit", "eager", "backward"):
        model = make_model(args.model, nb.random.key(args.seed))
        trainer, losses = train(style, model, data, args)
        acc = accuracy(trainer.model, nb.tensor(x_test), nb.tensor(y_test)).item()
        x, y = nb.tensor(x_train[:args.batch_size]), nb.tensor(y_train[:args.batch_size])
        seconds = step_time(lambda: trainer.step(x, y).item(), args.timing_steps)
        results[style] = {"accuracy": acc, "step_seconds": seconds, "final_loss": losses[-1],
                          "trainer": trainer}

    print(f"\n{'style':>26s} | test accuracy | step (loss read) | vs jit")
    print(f"{'-' * 26}-+---------------+------------------+-------")
    t_jit = results["jit"]["step_seconds"]
    for style, r in results.items():
        print(f"{LABELS[style]:>26s} | {r['accuracy'] * 100:12.1f}% | {r['step_seconds'] * 1e6:13.0f} us |"
              f" {r['step_seconds'] / t_jit:5.2f}x")
    torch_result = None if args.no_torch else torch_step_time(args.model, data, args)
    if torch_result is not None:
        seconds, acc, threads = torch_result
        print(f"{'PyTorch eager backward()':>26s} | {acc * 100:12.1f}% | {seconds * 1e6:13.0f} us |"
              f" {seconds / t_jit:5.2f}x   ({threads} threads)")
    results["torch"] = torch_result

    trainer = results["jit"]["trainer"]
    x, y = nb.tensor(x_train[:args.batch_size]), nb.tensor(y_train[:args.batch_size])
    text = trainer._step.lower(trainer.model, trainer.state, x, y).as_text()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "train_step.stablehlo.mlir")
    with open(path, "w") as f:
        f.write(text)
    print(f"\nThe jitted training step as XLA receives it (StableHLO, {text.count(chr(10))} lines): {path}")
    print(f"The three styles compiled {nb.compile_stats().compiles} XLA programs in all; "
          f"the demo took {time.perf_counter() - start:.1f} s.")
    print("More: python -m nabla_like.tour (the engine section by section), notebooks/, make bench.")
    return results


if __name__ == "__main__":
    main()
