#!/usr/bin/python3
"""PyTorch reference for memsig's bigram-factorized char LM (models/charlm.h, engine/rnn.h):
the same model, the same causal bigram λ, the same model-file contract (format
memsig-charlm-factorized, tensors rnn.factor_u_l{k} [G*H, 1156] and rnn.factor_v_l{k} [1156, in+H]).

  torch_factorized.py eval   --model M.safetensors --data split.ids            bpc, as JSON
  torch_factorized.py grads  --model M --data split.ids --n N --out G.safetensors --compare MEMSIG_G.safetensors
        one batch of the first N segments: bits per target and every parameter's gradient,
        compared with memsig's (tests/factorized_grads.cpp); exits 1 when they differ
  torch_factorized.py export --out M.safetensors --cell lstm --layers 1 --hidden H --embed E [--seed S]
  torch_factorized.py bench  --train T.ids --configs lstm:1x320 --steps 100   training chars/s

The kernel of layer l on [x_t; h_{t-1}] is W0 + Σ_k λ_tk u_k v_kᵀ, applied without forming it:
  LSTM  gates = x W_ih^T + b_ih + h W_hh^T + b_hh + (λ_t ⊙ (x V_x^T + h V_h^T)) U^T
  GRU   input side  x W_ih^T + b_ih + (λ_t ⊙ x V_x^T) U^T;  hidden side h W_hh^T + b_hh + (λ_t ⊙ h V_h^T) U^T
        r, z = s(in + hid);  n = tanh(in_n + r ⊙ hid_n);  h' = (1 - z) n + z h
λ_t (causal, this segment, zero prior): normalised counts of the bigrams (s_{j-1}, s_j), j <= t,
k = 34 s_{j-1} + s_j. λ is dense here ([T, B, 1156]): the products run as dense matrix products,
PyTorch's fastest way to write it (a sparse λ would go through slower sparse kernels).
"""
import argparse, json, math, os, sys, time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import SYMBOLS, buckets, load_file, make_batch, read_ids, save_file, loaded_blas  # noqa: E402

V = len(SYMBOLS)
K = V * V
FORMAT = "memsig-charlm-factorized"


def causal_lambda(x):
    """x [T, B] symbol ids -> λ [T, B, K]: λ_0 = 0, λ_t = counts of bigrams read up to t / t."""
    T, B = x.shape
    lam = torch.zeros(T, B, K)
    if T > 1:
        k = x[:-1] * V + x[1:]  # the bigram completed at step t = 1..T-1
        counts = nn.functional.one_hot(k, K).float().cumsum(0)
        lam[1:] = counts / torch.arange(1, T, dtype=torch.float32)[:, None, None]
    return lam


class FactorizedRNN(nn.Module):
    """Parameters named like nn.LSTM/nn.GRU's (weight_ih_l0 ...) plus factor_u_l{k}, factor_v_l{k}."""

    def __init__(self, cell, layers, hidden, embed):
        super().__init__()
        self.cell, self.layers, self.hidden = cell, layers, hidden
        G = 4 if cell == "lstm" else 3
        bound = 1.0 / math.sqrt(hidden)
        # PyTorch's draw order for the base weights, then U and V (as memsig: W0 first, then U, V).
        for l in range(layers):
            inp = embed if l == 0 else hidden
            for name, shape in (("weight_ih", (G * hidden, inp)), ("weight_hh", (G * hidden, hidden)),
                                ("bias_ih", (G * hidden,)), ("bias_hh", (G * hidden,))):
                self.register_parameter(f"{name}_l{l}", nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))
        for l in range(layers):
            inp = embed if l == 0 else hidden
            self.register_parameter(f"factor_u_l{l}", nn.Parameter(torch.empty(G * hidden, K).uniform_(-bound, bound)))
            self.register_parameter(f"factor_v_l{l}", nn.Parameter(torch.empty(K, inp + hidden).uniform_(-bound, bound)))

    def layer(self, l, x, lam):  # x [T, B, in], lam [T, B, K] -> [T, B, H]
        W_ih, W_hh = getattr(self, f"weight_ih_l{l}"), getattr(self, f"weight_hh_l{l}")
        b_ih, b_hh = getattr(self, f"bias_ih_l{l}"), getattr(self, f"bias_hh_l{l}")
        U, Vm = getattr(self, f"factor_u_l{l}"), getattr(self, f"factor_v_l{l}")
        inp, H = x.shape[-1], self.hidden
        V_x, V_h = Vm[:, :inp], Vm[:, inp:]
        T, B = x.shape[0], x.shape[1]
        h = x.new_zeros(B, H)
        outs = []
        if self.cell == "lstm":
            c = x.new_zeros(B, H)
            gx = x @ W_ih.t() + b_ih + b_hh  # [T, B, 4H]
            ax = x @ V_x.t()                 # [T, B, K]
            for t in range(T):
                m = lam[t] * (ax[t] + h @ V_h.t())
                g = gx[t] + h @ W_hh.t() + m @ U.t()
                i, f, gg, o = g.chunk(4, -1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
                h = torch.sigmoid(o) * torch.tanh(c)
                outs.append(h)
        else:
            gx = x @ W_ih.t() + b_ih + (lam * (x @ V_x.t())) @ U.t()  # input side, every step at once
            for t in range(T):
                gh = h @ W_hh.t() + b_hh + (lam[t] * (h @ V_h.t())) @ U.t()
                xr, xz, xn = gx[t].chunk(3, -1)
                hr, hz, hn = gh.chunk(3, -1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                n = torch.tanh(xn + r * hn)
                h = (1 - z) * n + z * h
                outs.append(h)
        return torch.stack(outs)


class FactorizedCharLM(nn.Module):
    def __init__(self, cell, layers, hidden, embed):
        super().__init__()
        self.embed = nn.Embedding(V, embed)
        self.rnn = FactorizedRNN(cell, layers, hidden, embed)
        self.proj = nn.Linear(hidden, V)
        self.meta = {"format": FORMAT, "cell": cell, "layers": str(layers), "hidden": str(hidden), "embed": str(embed),
                     "symbols": json.dumps(SYMBOLS, separators=(",", ":")), "factorized": "bigram", "bases": str(K),
                     "lambda": "causal", "lambda_window": "segment", "lambda_prior": "zero"}

    def forward(self, x):  # [T, B] -> logits [T, B, 34]
        lam = causal_lambda(x)
        h = self.embed(x)
        for l in range(self.rnn.layers):
            h = self.rnn.layer(l, h, lam)
        return self.proj(h)


def load_model(path):
    tensors, meta = load_file(path)
    assert meta.get("format") == FORMAT, f"{path}: not a memsig factorized char LM"
    assert meta.get("lambda") == "causal" and meta.get("lambda_window") == "segment" and meta.get("lambda_prior") == "zero"
    m = FactorizedCharLM(meta["cell"], int(meta["layers"]), int(meta["hidden"]), int(meta["embed"]))
    m.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optim.")}, strict=True)
    return m


def batch_loss(model, x, y, m):
    nll = nn.functional.cross_entropy(model(x).reshape(-1, V), y.reshape(-1), reduction="none")
    return (nll * m.reshape(-1)).sum() / m.sum()


def cmd_eval(a):
    model = load_model(a.model)
    segs = read_ids(a.data)
    nats, count = 0.0, 0.0
    with torch.no_grad():
        for idx in buckets(segs, a.batch):
            x, y, m = make_batch(segs, idx)
            nats += float(batch_loss(model, x, y, m).double() * m.sum())
            count += float(m.sum())
    bpc = nats / count / math.log(2)
    print(json.dumps({"model": a.model, "data": a.data, "bpc": bpc, "perplexity": 2 ** bpc, "targets": int(count)}))


def cmd_grads(a):
    model = load_model(a.model)
    segs = read_ids(a.data)[:a.n]
    x, y, m = make_batch(segs, list(range(len(segs))))
    loss = batch_loss(model, x, y, m)
    loss.backward()
    bpc = float(loss) / math.log(2)
    grads = {"grad." + name: p.grad for name, p in model.named_parameters()}
    if a.out:
        save_file(grads, a.out, {"bpc": repr(bpc)})
    ok = True
    if a.compare:
        theirs, meta = load_file(a.compare)
        mb = float(meta["bpc"])
        print(f"  bpc: memsig {mb:.7f}  torch {bpc:.7f}")
        ok &= abs(mb - bpc) < 2e-5
        assert set(theirs) == set(grads), f"gradient names differ: {sorted(set(theirs) ^ set(grads))}"
        for name, g in grads.items():
            d = float((theirs[name] - g).abs().max())
            scale = float(g.abs().max())
            good = d <= 1e-5 + 1e-3 * scale
            ok &= good
            print(f"  {name:24s} {tuple(g.shape)!s:14s} max|torch| {scale:.3e}  max|memsig - torch| {d:.2e} {'' if good else 'DIFFERS'}")
    print(json.dumps({"bpc": bpc, "agree": ok}))
    sys.exit(0 if ok else 1)


def cmd_export(a):
    torch.manual_seed(a.seed)
    m = FactorizedCharLM(a.cell, a.layers, a.hidden, a.embed)
    save_file(m.state_dict(), a.out, m.meta)


def cmd_bench(a):
    """Training steps (Adam, clip 5) on the batches `memsig bench` uses, as scripts/torch_ref.py bench."""
    torch.set_num_threads(a.threads)
    segs = read_ids(a.train)
    bs = buckets(segs, a.batch)
    n = a.steps + a.warmup
    batches = [make_batch(segs, bs[i * len(bs) // n]) for i in range(n)]
    out = {"threads": a.threads, "blas": loaded_blas(), "configs": {}}
    for item in a.configs.split(","):
        cell, shape = item.split(":")[:2]
        layers, hidden = (int(v) for v in shape.split("x"))
        torch.manual_seed(1)
        model = FactorizedCharLM(cell, layers, hidden, a.embed)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        chars, t_train = 0, 0.0
        for i, (x, y, m) in enumerate(batches):
            t = time.perf_counter()
            loss = batch_loss(model, x, y, m)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            if i >= a.warmup:
                t_train += time.perf_counter() - t
                chars += int(m.sum())
        out["configs"][item + ":bigram"] = {"train_chars_per_s": chars / t_train}
        print(f"torch  {item}:bigram train {chars / t_train:8.0f} chars/s", file=sys.stderr, flush=True)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval"); e.add_argument("--model", required=True); e.add_argument("--data", required=True)
    e.add_argument("--batch", type=int, default=64)
    g = sub.add_parser("grads"); g.add_argument("--model", required=True); g.add_argument("--data", required=True)
    g.add_argument("--n", type=int, default=16); g.add_argument("--out"); g.add_argument("--compare")
    x = sub.add_parser("export")
    x.add_argument("--cell", default="lstm"); x.add_argument("--layers", type=int, default=1)
    x.add_argument("--hidden", type=int, default=320); x.add_argument("--embed", type=int, default=32)
    x.add_argument("--seed", type=int, default=1); x.add_argument("--out", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--train", required=True); b.add_argument("--configs", default="lstm:1x320")
    b.add_argument("--steps", type=int, default=100); b.add_argument("--warmup", type=int, default=5)
    b.add_argument("--batch", type=int, default=64); b.add_argument("--embed", type=int, default=32)
    b.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    {"eval": cmd_eval, "grads": cmd_grads, "export": cmd_export, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    main()
