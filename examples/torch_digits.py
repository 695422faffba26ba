#!/usr/bin/python3
"""Trains a small network with PyTorch on scikit-learn's bundled digits (1797 8x8
images, offline) in FP32 and with bf16 autocast, and measures each epoch with wattprof:
time, energy, energy per sample and test accuracy.

    PYTHONPATH=python /usr/bin/python3 examples/torch_digits.py --precision both
    build/wattprof run --json run.json -- /usr/bin/python3 examples/torch_digits.py

Alone it measures in this process and prints a table per epoch. Under `wattprof run` it
reports the same windows ("train-fp32"/"train-bf16" around "epoch" windows whose
units are the samples trained and whose metric is "accuracy") to the enclosing run,
which measures; the table then shows time and accuracy, and the energies are in the
run's summary and JSON.

Needs Debian's python3-torch and python3-sklearn (and libopenblas0-pthread: without it
torch uses the slow reference BLAS). Tiny setting for CI: --epochs 2 --hidden 16.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import wattprof  # noqa: E402  (the source tree's package when not installed)

TEST_FRACTION = 0.2


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20, help="epochs per precision (20)")
    p.add_argument("--precision", choices=("fp32", "bf16", "both"), default="both")
    p.add_argument("--hidden", type=int, default=512, help="hidden units (512)")
    p.add_argument("--batch", type=int, default=32, help="batch size (32)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (1e-3)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.hidden < 1 or args.batch < 1:
        p.error("--epochs, --hidden and --batch must be at least 1")
    return args


def load_data(torch, seed):
    """The digits, scaled to 0..1, split 80/20 with a fixed permutation."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = int(len(x) * TEST_FRACTION)
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


def autocast(torch, precision):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def train_epoch(torch, model, opt, x, y, batch, precision, gen):
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(x), generator=gen)
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        with autocast(torch, precision):
            loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    return len(x)


def accuracy(torch, model, x, y, precision):
    model.eval()
    with torch.no_grad(), autocast(torch, precision):
        pred = model(x).argmax(dim=1)
    return float((pred == y).float().mean())


def train(torch, t, data, args, precision):
    """Trains one network; returns [(epoch, window, seconds, accuracy)] and its window."""
    x, y, xt, yt = data
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(args.hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    rows = []
    with t.window("train-" + precision) as whole:
        for epoch in range(1, args.epochs + 1):
            t0 = time.perf_counter()
            with t.window("epoch") as w:
                n = train_epoch(torch, model, opt, x, y, args.batch, precision, gen)
            seconds = time.perf_counter() - t0
            w.set_units(n, "samples")
            acc = accuracy(torch, model, xt, yt, precision)
            w.metric("accuracy", acc)
            rows.append((epoch, w, seconds, acc))
        whole.set_units(args.epochs * len(x), "samples")
        whole.metric("accuracy", rows[-1][3])
    t.metric("accuracy_" + precision, rows[-1][3])
    return rows, whole


def report(precision, rows, whole, result):
    """One line per epoch, then the precision's total; energies only in-process."""
    by_id = {w.id: w for w in result.windows} if result else {}
    for epoch, w, seconds, acc in rows:
        r = by_id.get(w.id)
        if r is None:
            print("%-9s %5d %8.3f %10s %12s %14s %8.4f" % (precision, epoch, seconds, "-", "-",
                                                            "-", acc))
        else:
            print("%-9s %5d %8.3f %10.3f %12.3f %14.3f %8.4f" % (
                precision, epoch, seconds, r.energy_j, r.attributed_energy_j,
                r.energy_per_unit_j * 1e3, acc))
    r = by_id.get(whole.id)
    if r is not None:
        print("%-9s total %8.3f %10.3f %12.3f %14.3f %8.4f" % (
            precision, r.end_s - r.start_s, r.energy_j, r.attributed_energy_j,
            r.energy_per_unit_j * 1e3, rows[-1][3]))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import torch
    except ImportError as e:
        sys.exit("torch_digits: PyTorch is not installed (apt-get install python3-torch): %s" % e)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_data(torch, args.seed)
    precisions = ["fp32", "bf16"] if args.precision == "both" else [args.precision]
    runs = []
    with wattprof.Tracker(label={"example": "torch_digits", "hidden": args.hidden,
                                 "batch": args.batch}) as t:
        t.set_units(len(precisions) * args.epochs * len(data[0]), "samples")
        for precision in precisions:
            runs.append((precision,) + train(torch, t, data, args, precision))
    result = t.result()
    print("torch_digits: 64-%d-10 MLP, %d train / %d test samples, batch %d, %d epochs, "
          "torch %s, %d threads, %s" % (
              args.hidden, len(data[0]), len(data[2]), args.batch, args.epochs,
              torch.__version__, torch.get_num_threads(),
              "reporting to the enclosing wattprof run" if t.is_remote else
              "measured in-process (%s)" % result.energy_provenance))
    print("%-9s %5s %8s %10s %12s %14s %8s" % ("precision", "epoch", "time_s", "energy_j",
                                                "attributed_j", "mj_per_sample", "accuracy"))
    for precision, rows, whole in runs:
        report(precision, rows, whole, result)
    if t.is_remote:
        print("energies: in the enclosing wattprof run's summary and JSON (windows 'epoch')")
    else:
        for w in result.warnings:
            print("warning: %s" % w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
