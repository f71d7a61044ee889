#!/usr/bin/env python3
"""PyTorch + cuDNN on the GPU: the anchor scripts/gpu-check measures memsig --device cuda against.

The same model, batching and shapes as `memsig bench` and `torch_ref.py bench` (whose CharLM,
read_ids, buckets and make_batch this script imports), on a device, timed with the device
synchronised at the end of every step. PyTorch runs at its defaults (on CUDA, cuDNN may use TF32
for fp32 RNNs: torch.backends.cudnn.allow_tf32, recorded in the output); memsig's cuDNN backend
runs strict fp32 (CUDNN_FMA_MATH).

  torch_gpu_bench.py bench --train T.ids --configs lstm:1x80,... --batch 64 --steps 100 [--device cuda]
  torch_gpu_bench.py probe --train T.ids --valid V.ids [--device cuda]
      the probe of Figure 1's kind as a PyTorch user writes it: a 1x320 GRU's states extracted
      once (kept on the device), then ten decoders (ReLU 64, Adam 2e-3, batch 256) one after another
Prints one JSON line; progress on stderr.
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch_ref as ref  # noqa: E402


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def device_info(dev):
    info = {"device": str(dev), "torch": torch.__version__}
    if dev.type == "cuda":
        info.update(gpu=torch.cuda.get_device_name(dev), cudnn=torch.backends.cudnn.version(),
                    cudnn_allow_tf32=torch.backends.cudnn.allow_tf32)
    return info


def cmd_bench(a):
    dev = torch.device(a.device)
    segs = ref.read_ids(a.train)
    bs = ref.buckets(segs, a.batch)
    n = a.steps + a.warmup
    batches = [ref.make_batch(segs, bs[i * len(bs) // n]) for i in range(n)]
    out = dict(device_info(dev), batch=a.batch, steps=a.steps, configs={})
    for item in a.configs.split(","):
        cell, shape = item.split(":")
        layers, hidden = (int(v) for v in shape.split("x"))
        torch.manual_seed(1)
        model = ref.CharLM(cell, layers, hidden, a.embed).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        chars, t_train, t_infer = 0, 0.0, 0.0
        for i, (x, y, m) in enumerate(batches):
            sync(dev)
            t = time.perf_counter()
            x, y, m = x.to(dev), y.to(dev), m.to(dev)
            nll = nn.functional.cross_entropy(model(x).reshape(-1, len(ref.SYMBOLS)), y.reshape(-1), reduction="none")
            loss = (nll * m.reshape(-1)).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sync(dev)
            if i >= a.warmup:
                t_train += time.perf_counter() - t
                chars += int(m.sum())
        with torch.no_grad():
            for i, (x, y, m) in enumerate(batches):
                sync(dev)
                t = time.perf_counter()
                x, y, m = x.to(dev), y.to(dev), m.to(dev)
                nll = nn.functional.cross_entropy(model(x).reshape(-1, len(ref.SYMBOLS)), y.reshape(-1), reduction="none")
                float((nll * m.reshape(-1)).sum())
                if i >= a.warmup:
                    t_infer += time.perf_counter() - t
        out["configs"][item] = {"train_chars_per_s": chars / t_train, "infer_chars_per_s": chars / t_infer}
        print(f"torch {a.device} {item:11s} B={a.batch}: train {chars / t_train:10.0f} chars/s  "
              f"infer {chars / t_infer:10.0f} chars/s", file=sys.stderr, flush=True)
    print(json.dumps(out))


def cmd_probe(a):
    dev = torch.device(a.device)
    torch.manual_seed(1)
    model = ref.CharLM("gru", 1, a.hidden, a.embed).to(dev).eval()
    rng = np.random.default_rng(1)

    def extract(segs, keep_n):  # as torch_ref.py probe, with the states kept on the device
        eligible = sum(max(0, len(s) - 1) for s in segs)
        keep = min(1.0, keep_n / eligible)
        states, targets = [], []
        with torch.no_grad():
            for idx in ref.buckets(segs, 64):
                x, _, _ = ref.make_batch(segs, idx)
                h, _ = model.rnn(model.embed(x.to(dev)))  # [T, B, H]
                ids = x.numpy()
                for b, i in enumerate(idx):
                    ts = np.arange(2, len(segs[i]) + 1)
                    ts = ts[rng.random(len(ts)) < keep] if keep < 1.0 else ts
                    if len(ts) == 0:
                        continue
                    states.append(h[torch.from_numpy(ts).to(dev), b])
                    back = ts[:, None] - np.arange(1, a.lags + 1)[None, :]
                    targets.append(np.where(back >= 1, ids[np.clip(back, 0, None), b], -1))
        return torch.cat(states), torch.from_numpy(np.concatenate(targets)).long().to(dev)

    sync(dev)
    t0 = time.perf_counter()
    tr_x, tr_y = extract(ref.read_ids(a.train), a.positions)
    va_x, va_y = extract(ref.read_ids(a.valid), a.valid_positions)
    mean, std = tr_x.mean(0), tr_x.std(0).clamp_min(1e-6)
    tr_x, va_x = (tr_x - mean) / std, (va_x - mean) / std
    sync(dev)
    t_extract = time.perf_counter() - t0
    t1 = time.perf_counter()
    accs = []
    for d in range(a.lags):
        dec = nn.Sequential(nn.Linear(a.hidden, 64), nn.ReLU(), nn.Linear(64, len(ref.SYMBOLS))).to(dev)
        opt = torch.optim.Adam(dec.parameters(), lr=2e-3)
        y, vy = tr_y[:, d], va_y[:, d]
        acc = 0.0
        for epoch in range(a.epochs):
            perm = torch.randperm(len(tr_x), device=dev)
            for i in range(0, len(tr_x), 256):
                j = perm[i:i + 256]
                m = y[j] >= 0
                loss = nn.functional.cross_entropy(dec(tr_x[j][m]), y[j][m])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                m = vy >= 0
                acc = float((dec(va_x[m]).argmax(-1) == vy[m]).float().mean())
        accs.append(acc)
    sync(dev)
    t_train = time.perf_counter() - t1
    out = dict(device_info(dev), positions=len(tr_x), lags=a.lags, epochs=a.epochs, extract_seconds=t_extract,
               train_seconds=t_train, total_seconds=t_extract + t_train, valid_accuracy=accs)
    print(f"torch {a.device} probe: {len(tr_x)} positions, L={a.lags}, {a.epochs} epochs: extraction {t_extract:.2f} s, "
          f"decoders one after another {t_train:.2f} s, total {t_extract + t_train:.2f} s", file=sys.stderr, flush=True)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--train", required=True)
    b.add_argument("--configs", default="lstm:1x80,lstm:1x320,gru:1x320,lstm:1x640,lstm:4x320")
    b.add_argument("--steps", type=int, default=100); b.add_argument("--warmup", type=int, default=5)
    b.add_argument("--batch", type=int, default=64); b.add_argument("--embed", type=int, default=32)
    pr = sub.add_parser("probe")
    pr.add_argument("--train", required=True); pr.add_argument("--valid", required=True)
    pr.add_argument("--hidden", type=int, default=320); pr.add_argument("--embed", type=int, default=32)
    pr.add_argument("--positions", type=int, default=50000); pr.add_argument("--valid-positions", type=int, default=10000)
    pr.add_argument("--lags", type=int, default=10); pr.add_argument("--epochs", type=int, default=3)
    for q in (b, pr):
        q.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    {"bench": cmd_bench, "probe": cmd_probe}[a.cmd](a)


if __name__ == "__main__":
    main()
