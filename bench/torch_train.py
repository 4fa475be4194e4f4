#!/usr/bin/python3
"""PyTorch reference for bench/train.ts (never used at run time).

Trains the same MLP (784-256-128-10) or CNN (conv16-pool-conv32-pool-dense10) with Adam 1e-3,
batch 128, on the data files written by bench/train.ts, and prints one JSON line:
{"version": ..., "mlp"|"cnn": samples_per_second} or {"gemm": {"256": gflops, ...}}.
Exit code 3 with {"error": ...} when torch cannot be imported.
"""
import argparse
import json
import os
import sys
import time

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as exc:  # Debian's python3-torch is optional
    print(json.dumps({"error": f"PyTorch not installed for {sys.executable}: {exc}"}))
    sys.exit(3)

BATCH = 128


def build(kind):
    if kind == "mlp":
        return nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
        )
    return nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 10),
    )


def throughput(kind, x_all, y_all, batches):
    n = batches * BATCH
    shape = (n, 784) if kind == "mlp" else (n, 1, 28, 28)
    x = torch.from_numpy(x_all[: n * 784].reshape(shape).copy())
    y = torch.from_numpy(y_all[:n].astype(np.int64))
    model = build(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # log-softmax + NLL: the softmax layer + categorical CE of tfjs

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()  # tfjs's fit reads the loss every batch too

    for _ in range(2):
        step(x[:BATCH], y[:BATCH])
    start = time.perf_counter()
    perm = torch.randperm(n)  # fit(shuffle: true)
    for b in range(batches):
        idx = perm[b * BATCH:(b + 1) * BATCH]
        step(x[idx], y[idx])
    return n / (time.perf_counter() - start)


def gemm(sizes):
    """GFLOP/s per size: the median of single timed calls after a warm-up call. bench/train.ts
    times the addon with the same loop (nativeGemm) and interleaves the two sides in rounds."""
    out = {}
    for n in sizes:
        a = torch.full((n, n), 0.5)
        b = torch.full((n, n), 0.25)
        c = torch.empty((n, n))
        torch.mm(a, b, out=c)
        reps = max(10, round(4e9 / (2 * n ** 3)))
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            torch.mm(a, b, out=c)
            times.append(time.perf_counter() - start)
        times.sort()
        out[str(n)] = 2 * n ** 3 / times[len(times) // 2] / 1e9
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--what", choices=["mlp", "cnn", "gemm"], required=True)
    parser.add_argument("--gemm", default="256,512,1024")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # The thread count PyTorch really runs with (its intra-op pool; OpenBLAS's own pool is set by
    # OPENBLAS_NUM_THREADS, which bench/train.ts exports).
    result = {"version": torch.__version__, "threads": torch.get_num_threads()}
    if args.what == "gemm":
        result["gemm"] = gemm([int(s) for s in args.gemm.split(",")])
    else:
        x_all = np.fromfile(os.path.join(args.data, "x.f32"), dtype=np.float32)
        y_all = np.fromfile(os.path.join(args.data, "y.i32"), dtype=np.int32)
        result[args.what] = throughput(args.what, x_all, y_all, args.batches)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
