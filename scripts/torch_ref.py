#!/usr/bin/python3
"""PyTorch reference for memsig: the same char LM, protocol and model-file contract.

  torch_ref.py eval   --model M.safetensors --data split.ids          bpc of a model file, as JSON
  torch_ref.py export --out M.safetensors --cell gru --layers 1 --hidden H --embed E [--seed S]
                                                                       a randomly initialised model
  torch_ref.py train  --train T.ids --valid V.ids --cell gru --hidden 320 ... --log curve.csv
                                                                       the speed/accuracy baseline
  torch_ref.py states --model M.safetensors --states S.safetensors --data split.ids
                                                                       checks a `memsig states` file

Split files (.ids) come from `memsig corpus --corpus NAME --split S --out F`: a segment per line,
space-separated symbol ids. Model files are safetensors with memsig's metadata; when the
`safetensors` package is missing (Debian 12 has none) the same bytes are read and written here.
"""
import argparse, json, math, struct, sys, time
import numpy as np
import torch
import torch.nn as nn

SYMBOLS = ["<s>", "</s>", "<unk>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + [" ", ".", ",", "#", "'"]
BOS, EOS = 0, 1


class CharLM(nn.Module):
    def __init__(self, cell, layers, hidden, embed, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(len(SYMBOLS), embed)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(embed, hidden, layers, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Linear(hidden, len(SYMBOLS))
        self.meta = {"format": "memsig-charlm", "cell": cell, "layers": str(layers), "hidden": str(hidden),
                     "embed": str(embed), "symbols": json.dumps(SYMBOLS, separators=(",", ":"))}

    def forward(self, x):  # x [T, B] -> logits [T, B, 34]
        h, _ = self.rnn(self.embed(x))
        return self.proj(self.drop(h))


def save_file(tensors, path, metadata):
    try:
        from safetensors.torch import save_file as st_save
        return st_save(tensors, path, metadata=metadata)
    except ImportError:
        pass
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_file(path):
    try:
        from safetensors import safe_open
        with safe_open(path, "pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    except ImportError:
        pass
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    dtypes = {"F32": "<f4", "I32": "<i4"}
    for name, e in header.items():
        assert e["dtype"] in dtypes, name
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[base + b:base + end], dtype=dtypes[e["dtype"]]).copy()
        tensors[name] = torch.from_numpy(arr).reshape(e["shape"])
    return tensors, meta


def load_model(path):
    tensors, meta = load_file(path)
    assert meta.get("format") == "memsig-charlm", "not a memsig char LM"
    m = CharLM(meta["cell"], int(meta["layers"]), int(meta["hidden"]), int(meta["embed"]))
    m.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optim.")}, strict=True)
    return m


def read_ids(path):
    return [[int(t) for t in line.split()] for line in open(path) if line.strip()]


def buckets(segs, batch):
    order = sorted(range(len(segs)), key=lambda i: len(segs[i]))  # stable, like memsig
    return [order[i:i + batch] for i in range(0, len(order), batch)]


def make_batch(segs, idx):
    T = max(len(segs[i]) for i in idx) + 1
    x = torch.full((T, len(idx)), EOS, dtype=torch.long)
    y = torch.full((T, len(idx)), EOS, dtype=torch.long)
    m = torch.zeros(T, len(idx))
    for b, i in enumerate(idx):
        s = segs[i]
        x[0, b] = BOS
        x[1:len(s) + 1, b] = torch.tensor(s, dtype=torch.long)
        y[:len(s), b] = torch.tensor(s, dtype=torch.long)
        y[len(s), b] = EOS
        m[:len(s) + 1, b] = 1
    return x, y, m


def evaluate(model, segs, batch=64):
    model.eval()
    nats, count = 0.0, 0.0
    with torch.no_grad():
        for idx in buckets(segs, batch):
            x, y, m = make_batch(segs, idx)
            logp = torch.log_softmax(model(x), -1)
            nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
            nats += float((nll.double() * m.double()).sum())
            count += float(m.sum())
    model.train()
    bpc = nats / count / math.log(2)
    return bpc, count


def cmd_eval(a):
    model = load_model(a.model)
    bpc, count = evaluate(model, read_ids(a.data), a.batch)
    print(json.dumps({"model": a.model, "data": a.data, "bpc": bpc, "perplexity": 2 ** bpc, "targets": int(count)}))


def cmd_export(a):
    torch.manual_seed(a.seed)
    m = CharLM(a.cell, a.layers, a.hidden, a.embed)
    save_file(m.state_dict(), a.out, m.meta)


def cmd_train(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    train, valid = read_ids(a.train), read_ids(a.valid)
    model = CharLM(a.cell, a.layers, a.hidden, a.embed, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    bs = buckets(train, a.batch)
    rng = np.random.default_rng(a.seed)
    start, step, chars = time.time(), 0, 0
    rows = ["seconds,epoch,step,chars,train_bpc,valid_bpc,valid_ppl"]
    done = False
    for epoch in range(a.epochs):
        for bi in rng.permutation(len(bs)):
            x, y, m = make_batch(train, bs[bi])
            logits = model(x)
            nll = nn.functional.cross_entropy(logits.reshape(-1, len(SYMBOLS)), y.reshape(-1), reduction="none")
            loss = (nll * m.reshape(-1)).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            step += 1
            chars += int(m.sum())
            if step % a.eval_every == 0:
                el = time.time() - start
                vb, _ = evaluate(model, valid)
                rows.append(f"{el:.1f},{epoch + 1},{step},{chars},{loss.item() / math.log(2):.4f},{vb:.4f},{2 ** vb:.4f}")
                print(f"torch  {el:6.1f}s step {step} {chars / el / 1000:.1f}k chars/s valid bpc {vb:.4f} ppl {2 ** vb:.3f}",
                      file=sys.stderr, flush=True)
                if a.log:
                    open(a.log, "w").write("\n".join(rows) + "\n")
            if a.max_minutes and time.time() - start > a.max_minutes * 60:
                done = True
                break
        if done:
            break
    if a.out:
        save_file(model.state_dict(), a.out, model.meta)


def loaded_blas():
    """The BLAS library this process actually loaded (Debian's python3-torch takes libblas.so.3,
    whichever OpenBLAS build the alternatives system or LD_LIBRARY_PATH points to)."""
    import os
    for line in open("/proc/self/maps"):
        path = line.split()[-1]
        if "blas" in os.path.basename(path):
            return os.path.realpath(path)
    return "unknown"


def cmd_bench(a):
    """Same configurations and batches as `memsig bench`: train steps (Adam, clip 5) and inference."""
    torch.set_num_threads(a.threads)
    segs = read_ids(a.train)
    bs = buckets(segs, a.batch)
    n = a.steps + a.warmup
    batches = [make_batch(segs, bs[i * len(bs) // n]) for i in range(n)]
    out = {"threads": a.threads, "blas": loaded_blas(), "configs": {}}
    for item in a.configs.split(","):
        cell, shape = item.split(":")
        layers, hidden = (int(v) for v in shape.split("x"))
        torch.manual_seed(1)
        model = CharLM(cell, layers, hidden, a.embed)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        chars, t_train, t_infer = 0, 0.0, 0.0
        for i, (x, y, m) in enumerate(batches):
            t = time.perf_counter()
            nll = nn.functional.cross_entropy(model(x).reshape(-1, len(SYMBOLS)), y.reshape(-1), reduction="none")
            loss = (nll * m.reshape(-1)).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            if i >= a.warmup:
                t_train += time.perf_counter() - t
                chars += int(m.sum())
        with torch.no_grad():
            for i, (x, y, m) in enumerate(batches):
                t = time.perf_counter()
                nll = nn.functional.cross_entropy(model(x).reshape(-1, len(SYMBOLS)), y.reshape(-1), reduction="none")
                float((nll * m.reshape(-1)).sum())
                if i >= a.warmup:
                    t_infer += time.perf_counter() - t
        out["configs"][item] = {"train_chars_per_s": chars / t_train, "infer_chars_per_s": chars / t_infer}
        print(f"torch  {item:11s} train {chars / t_train:8.0f} chars/s  infer {chars / t_infer:8.0f} chars/s",
              file=sys.stderr, flush=True)
    print(json.dumps(out))


def cmd_sample_bench(a):
    """Sampling at batch 1, step by step, as a PyTorch user generates text: symbols/s."""
    torch.set_num_threads(a.threads)
    out = {"threads": a.threads, "blas": loaded_blas(), "sample": {}}
    for item in a.configs.split(","):
        cell, shape = item.split(":")
        layers, hidden = (int(v) for v in shape.split("x"))
        torch.manual_seed(1)
        model = CharLM(cell, layers, hidden, a.embed).eval()
        gen = torch.Generator().manual_seed(2)

        def run(steps):
            done = 0
            with torch.no_grad():
                while done < steps:
                    x, state = torch.tensor([[BOS]]), None
                    while done < steps:
                        h, state = model.rnn(model.embed(x), state)
                        p = torch.softmax(model.proj(h[-1, 0]), -1)
                        p[BOS] = 0
                        nxt = int(torch.multinomial(p, 1, generator=gen))
                        done += 1
                        if nxt == EOS:
                            break
                        x = torch.tensor([[nxt]])
            return done

        run(20)
        t = time.perf_counter()
        n = run(a.steps)
        rate = n / (time.perf_counter() - t)
        out["sample"][item] = {"sample_symbols_per_s": rate, "steps": n}
        print(f"torch  sampling {item} at batch 1: {rate:.0f} symbols/s", file=sys.stderr, flush=True)
    print(json.dumps(out))


def cmd_probe(a):
    """`memsig signature` at its defaults as a user of a probing library writes it in PyTorch, at its
    best (vectorised, OpenMP BLAS): states of the layer extracted once with nn.GRU/LSTM and kept in
    memory (a random subsample of `positions` training and `valid_positions` valid and test
    positions), standardised with the training mean and deviation, then one decoder per lag
    d = 1..L (ReLU layer of 64, Adam 2e-3, batch 256) trained after another, each for up to
    `epochs` epochs with early stopping on its valid accuracy (patience `patience`, best weights
    kept), then scored on test. Prints wall and CPU seconds of each part (CPU: time.process_time,
    all of this process's threads)."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = (load_model(a.model) if a.model else CharLM("gru", 1, a.hidden, a.embed)).eval()
    rng = np.random.default_rng(1)

    def extract(segs, keep_n):
        # Vectorised as a careful user would: one nn.GRU call per batch, positions chosen and
        # gathered with index arrays, targets from a padded id matrix.
        eligible = sum(max(0, len(s) - 1) for s in segs)
        keep = min(1.0, keep_n / eligible)
        states, targets = [], []
        with torch.no_grad():
            for idx in buckets(segs, 64):
                x, _, _ = make_batch(segs, idx)
                h, _ = model.rnn(model.embed(x))  # [T, B, H]
                ids = x.numpy()  # [T, B]: <s> c1..cn, padded
                for b, i in enumerate(idx):
                    n = len(segs[i])
                    ts = np.arange(2, n + 1)
                    ts = ts[rng.random(len(ts)) < keep] if keep < 1.0 else ts
                    if len(ts) == 0:
                        continue
                    states.append(h[torch.from_numpy(ts), b])
                    back = ts[:, None] - np.arange(1, a.lags + 1)[None, :]  # positions t-d
                    targets.append(np.where(back >= 1, ids[np.clip(back, 0, None), b], -1))
        return torch.cat(states), torch.from_numpy(np.concatenate(targets)).long()

    w0, c0 = time.perf_counter(), time.process_time()
    tr_x, tr_y = extract(read_ids(a.train), a.positions)
    va_x, va_y = extract(read_ids(a.valid), a.valid_positions)
    te_x, te_y = extract(read_ids(a.test), a.valid_positions) if a.test else (va_x, va_y)
    mean, std = tr_x.mean(0), tr_x.std(0).clamp_min(1e-6)
    tr_x, va_x, te_x = (tr_x - mean) / std, (va_x - mean) / std, (te_x - mean) / std
    w1, c1 = time.perf_counter(), time.process_time()
    valid_accs, test_accs, epochs_run = [], [], []
    H = tr_x.shape[1]
    for d in range(a.lags):
        dec = nn.Sequential(nn.Linear(H, 64), nn.ReLU(), nn.Linear(64, len(SYMBOLS)))
        opt = torch.optim.Adam(dec.parameters(), lr=2e-3)
        y, vy, ty = tr_y[:, d], va_y[:, d], te_y[:, d]
        vm, tm = vy >= 0, ty >= 0
        vx, vyy = va_x[vm], vy[vm]
        best, best_state, since, epoch = -1.0, None, 0, 0
        while epoch < a.epochs and since < a.patience:
            epoch += 1
            perm = torch.randperm(len(tr_x))
            for i in range(0, len(tr_x), 256):
                j = perm[i:i + 256]
                m = y[j] >= 0
                if not bool(m.any()):
                    continue
                loss = nn.functional.cross_entropy(dec(tr_x[j][m]), y[j][m])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                acc = float((dec(vx).argmax(-1) == vyy).float().mean())
            if acc > best + 1e-9:
                best, since = acc, 0
                best_state = {k: v.clone() for k, v in dec.state_dict().items()}
            else:
                since += 1
        dec.load_state_dict(best_state)
        with torch.no_grad():
            test_accs.append(float((dec(te_x[tm]).argmax(-1) == ty[tm]).float().mean()))
        valid_accs.append(best)
        epochs_run.append(epoch)
    w2, c2 = time.perf_counter(), time.process_time()
    out = {"positions": len(tr_x), "lags": a.lags, "max_epochs": a.epochs, "patience": a.patience,
           "epochs_run": epochs_run, "threads": a.threads,
           "extract_seconds": w1 - w0, "train_seconds": w2 - w1, "total_seconds": w2 - w0,
           "extract_cpu_seconds": c1 - c0, "train_cpu_seconds": c2 - c1, "total_cpu_seconds": c2 - c0,
           "valid_accuracy": valid_accs, "test_accuracy": test_accs, "blas": loaded_blas()}
    print(f"torch probe: {len(tr_x)} positions, L={a.lags}, epochs run {epochs_run}: extraction {w1 - w0:.2f} s "
          f"({c1 - c0:.2f} s CPU), decoders one after another {w2 - w1:.2f} s ({c2 - c1:.2f} s CPU), "
          f"total {w2 - w0:.2f} s ({c2 - c0:.2f} s CPU)", file=sys.stderr, flush=True)
    print(json.dumps(out))


def cmd_states(a):
    """Recomputes every layer's per-step h (and c) with PyTorch's LSTMCell/GRUCell from the model's
    weights and compares them with a `memsig states` file, row by row; prints the largest difference."""
    model = load_model(a.model)
    tensors, meta = load_file(a.states)
    segs = read_ids(a.data)
    cell, layers, H = meta["cell"], int(meta["layers"]), int(meta["hidden"])
    assert meta["format"] == "memsig-states" and int(meta["rows"]) == sum(len(s) + 1 for s in segs)
    sym, seg, pos = tensors["symbol"].tolist(), tensors["segment"].tolist(), tensors["position"].tolist()
    cells = []
    for k in range(layers):
        inp = model.embed.embedding_dim if k == 0 else H
        c = (nn.LSTMCell if cell == "lstm" else nn.GRUCell)(inp, H)
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(c, n).data.copy_(getattr(model.rnn, f"{n}_l{k}").data)
        cells.append(c)
    row, worst = 0, 0.0
    with torch.no_grad():
        for i, s in enumerate(segs):
            ids = [BOS] + s
            x = model.embed(torch.tensor(ids))
            for k, c in enumerate(cells):
                h, cc = torch.zeros(1, H), torch.zeros(1, H)
                outs_h, outs_c = [], []
                for t in range(len(ids)):
                    if cell == "lstm":
                        h, cc = c(x[t:t + 1], (h, cc))
                        outs_c.append(cc)
                    else:
                        h = c(x[t:t + 1], h)
                    outs_h.append(h)
                hs = torch.cat(outs_h)
                worst = max(worst, float((tensors[f"layer{k + 1}.h"][row:row + len(ids)] - hs).abs().max()))
                if cell == "lstm":
                    worst = max(worst, float((tensors[f"layer{k + 1}.c"][row:row + len(ids)] - torch.cat(outs_c)).abs().max()))
                x = hs
            for t in range(len(ids)):
                assert sym[row + t] == ids[t] and seg[row + t] == i and pos[row + t] == t, f"index columns at row {row + t}"
            row += len(ids)
    print(json.dumps({"rows": row, "max_abs_diff": worst}))
    sys.exit(0 if worst < 1e-5 else 1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval"); e.add_argument("--model", required=True); e.add_argument("--data", required=True)
    e.add_argument("--batch", type=int, default=64)
    for q in (sub.add_parser("export"), sub.add_parser("train")):
        q.add_argument("--cell", default="gru"); q.add_argument("--layers", type=int, default=1)
        q.add_argument("--hidden", type=int, default=320); q.add_argument("--embed", type=int, default=32)
        q.add_argument("--seed", type=int, default=1); q.add_argument("--out")
    t = sub.choices["train"]
    t.add_argument("--train", required=True); t.add_argument("--valid", required=True)
    t.add_argument("--epochs", type=int, default=30); t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=2e-3); t.add_argument("--clip", type=float, default=5.0)
    t.add_argument("--dropout", type=float, default=0.0); t.add_argument("--threads", type=int, default=2)
    t.add_argument("--eval-every", type=int, default=200); t.add_argument("--max-minutes", type=float, default=0)
    t.add_argument("--log")
    b = sub.add_parser("bench")
    b.add_argument("--train", required=True); b.add_argument("--configs", default="lstm:1x80,lstm:1x320,gru:1x320,lstm:1x640,lstm:4x320")
    b.add_argument("--steps", type=int, default=100); b.add_argument("--warmup", type=int, default=5)
    b.add_argument("--batch", type=int, default=64); b.add_argument("--embed", type=int, default=32)
    b.add_argument("--threads", type=int, default=2)
    sb = sub.add_parser("sample-bench")
    sb.add_argument("--configs", default="gru:1x320"); sb.add_argument("--steps", type=int, default=5000)
    sb.add_argument("--embed", type=int, default=32); sb.add_argument("--threads", type=int, default=2)
    pr = sub.add_parser("probe")
    pr.add_argument("--train", required=True); pr.add_argument("--valid", required=True); pr.add_argument("--test")
    pr.add_argument("--model", help="a memsig model file (default: an untrained GRU of --hidden)")
    pr.add_argument("--hidden", type=int, default=320); pr.add_argument("--embed", type=int, default=32)
    pr.add_argument("--positions", type=int, default=200000); pr.add_argument("--valid-positions", type=int, default=100000)
    pr.add_argument("--lags", type=int, default=10); pr.add_argument("--epochs", type=int, default=20)
    pr.add_argument("--patience", type=int, default=3); pr.add_argument("--threads", type=int, default=2)
    st = sub.add_parser("states")
    st.add_argument("--model", required=True); st.add_argument("--states", required=True); st.add_argument("--data", required=True)
    a = p.parse_args()
    {"eval": cmd_eval, "export": cmd_export, "train": cmd_train, "bench": cmd_bench, "states": cmd_states,
     "sample-bench": cmd_sample_bench, "probe": cmd_probe}[a.cmd](a)


if __name__ == "__main__":
    main()
