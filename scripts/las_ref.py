#!/usr/bin/env python3
"""Listen-Attend-Spell in PyTorch 1.13: the same model as memsig's models/las.h, parameter for
parameter (the names of this module's state_dict are memsig's tensor names).

  las_ref.py check --out DIR [--seed S] [--location]
      a random model (--location: with location-aware attention) (written to DIR/las.safetensors with memsig's metadata) and random padded
      batches; writes DIR/ref.txt with each batch, the loss and the gradient of every parameter,
      for the hidden Catch2 case "[.las_torch]" (tests/las_torch.sh) to compare against memsig.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import save_file  # noqa: E402  (safetensors, with or without the package)

SYMBOLS = ["<s>", "</s>", "<unk>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + [" ", ".", ",", "#", "'"]
V = len(SYMBOLS)


class LAS(nn.Module):
    def __init__(self, feat_dim, L, P, H, Ls, Hs, E, A, ctc_weight, loc_filters=0, loc_width=15):
        super().__init__()
        D = 2 * H
        self.cfg = dict(feat_dim=feat_dim, listener_layers=L, pyramid=P, listener_hidden=H, speller_layers=Ls,
                        speller_hidden=Hs, embed=E, attention=A, ctc_weight=ctc_weight)
        self.pyramid = P
        self.listener = nn.ModuleList([nn.LSTM(feat_dim if k == 0 else 2 * D if k <= P else D, H, bidirectional=True)
                                       for k in range(L)])
        self.speller = nn.ModuleList([nn.LSTMCell(E + D if l == 0 else Hs, Hs) for l in range(Ls)])
        self.embed = nn.Embedding(V, E)
        self.att = nn.Module()
        self.att.key = nn.Linear(D, A)
        self.att.query = nn.Linear(Hs, A, bias=False)
        self.att.score = nn.Linear(A, 1, bias=False)
        self.loc_filters = loc_filters
        if loc_filters > 0:  # location-aware: U (F * a_{i-1}), F a Conv1d over the previous weights
            self.cfg.update(location_filters=loc_filters, location_width=loc_width)
            self.att.loc_conv = nn.Conv1d(1, loc_filters, loc_width, padding=(loc_width - 1) // 2, bias=False)
            self.att.loc = nn.Linear(loc_filters, A, bias=False)
        self.out = nn.Linear(Hs + D, V)
        self.ctc = nn.Linear(D, V) if ctc_weight > 0 else None
        self.ctc_weight = ctc_weight

    def listen(self, x, lengths):  # x [T, B, D] time-major, zeros past each length
        for k, rnn in enumerate(self.listener):
            if 1 <= k <= self.pyramid:  # pair frames: y_t = [x_2t | x_2t+1], odd T padded with a zero frame
                T, B, Fd = x.shape
                if T % 2:
                    x = torch.cat([x, x.new_zeros(1, B, Fd)])
                x = x.reshape(x.shape[0] // 2, 2, B, Fd).permute(0, 2, 1, 3).reshape(x.shape[0] // 2, B, 2 * Fd)
                lengths = (lengths + 1) // 2
            T = x.shape[0]
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            y, _ = rnn(packed)
            x, _ = nn.utils.rnn.pad_packed_sequence(y, total_length=T)
        return x, lengths

    def forward(self, feats, frames, inputs, targets, mask, smoothing):
        h, lens = self.listen(feats, frames)             # [T', B, D]
        memory = h.transpose(0, 1)                        # [B, T', D]
        keys = self.att.key(memory)
        B, T = memory.shape[0], memory.shape[1]
        valid = torch.arange(T)[None, :] < lens[:, None]
        Hs = self.speller[0].hidden_size
        state = [(memory.new_zeros(B, Hs), memory.new_zeros(B, Hs)) for _ in self.speller]
        ctx = memory.new_zeros(B, memory.shape[2])
        a = memory.new_zeros(B, T)  # a_0 = 0
        logits = []
        for i in range(inputs.shape[0]):
            x = torch.cat([self.embed(inputs[i]), ctx], 1)
            new = []
            for cell, (hh, cc) in zip(self.speller, state):
                hh, cc = cell(x, (hh, cc))
                new.append((hh, cc))
                x = hh
            state = new
            pre = keys + self.att.query(x)[:, None, :]
            if self.loc_filters > 0:
                pre = pre + self.att.loc(self.att.loc_conv(a[:, None, :]).transpose(1, 2))
            e = self.att.score(torch.tanh(pre)).squeeze(2)
            a = torch.softmax(e.masked_fill(~valid, float("-inf")), 1)
            ctx = torch.bmm(a[:, None, :], memory).squeeze(1)
            logits.append(self.out(torch.cat([x, ctx], 1)))
        lp = torch.log_softmax(torch.stack(logits), 2)    # [U, B, V]
        q = torch.full_like(lp, smoothing / (V - 1))
        q.scatter_(2, targets[:, :, None], 1.0 - smoothing)
        att = -(q * lp).sum(2)[mask > 0].sum() / mask.sum()
        if self.ctc is None:
            return att
        clp = torch.log_softmax(self.ctc(h), 2)
        n = mask.sum(0).long()
        labels = torch.cat([targets[: n[b] - 1, b] for b in range(B)])
        ctc = F.ctc_loss(clp, labels, lens, n - 1, blank=0, reduction="sum", zero_infinity=True) / mask.sum()
        return (1 - self.ctc_weight) * att + self.ctc_weight * ctc

    def metadata(self):
        m = {k: str(v) for k, v in self.cfg.items()}
        m["ctc_weight"] = "%g" % self.cfg["ctc_weight"]
        m["format"] = "memsig-las"
        m["symbols"] = json.dumps(SYMBOLS, separators=(",", ":"))
        return m


def random_batch(gen, B, D):
    texts = [[int(v) for v in torch.randint(3, V, (int(torch.randint(1, 8, (), generator=gen)),), generator=gen)]
             for _ in range(B)]
    frames = torch.tensor([max(1, len(t) * 4 + int(torch.randint(-2, 6, (), generator=gen))) for t in texts])
    frames[0] = max(frames.tolist())
    T = int(frames.max())
    feats = torch.randn(T, B, D, generator=gen)
    feats *= (torch.arange(T)[:, None] < frames[None, :]).float()[:, :, None]
    U = max(len(t) for t in texts) + 1
    inputs = torch.zeros(U, B, dtype=torch.long)
    targets = torch.zeros(U, B, dtype=torch.long)
    mask = torch.zeros(U, B)
    for b, t in enumerate(texts):
        seq = t + [1]
        for i, s in enumerate(seq):
            targets[i, b] = s
            inputs[i, b] = 0 if i == 0 else seq[i - 1]
            mask[i, b] = 1
    return texts, frames, feats, inputs, targets, mask


def cmd_check(a):
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    # layers 0 and 2 at their rate, layer 1 pairs frames; --location: 3 filters of width 5
    m = LAS(5, 3, 1, 6, 2, 7, 4, 5, 0.3, 3 if a.location else 0, 5)
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)
    os.makedirs(a.out, exist_ok=True)
    # memsig keeps the Conv1d's weight [K, 1, r] as [K, r]
    flat = lambda k, v: v.reshape(v.shape[0], -1) if k == "att.loc_conv.weight" else v
    save_file({k: flat(k, v).contiguous() for k, v in m.state_dict().items()}, os.path.join(a.out, "las.safetensors"),
              m.metadata())
    with open(os.path.join(a.out, "ref.txt"), "w") as f:
        w = lambda xs: f.write(" ".join(str(x) for x in xs) + "\n")
        for case, smoothing in enumerate([0.0, 0.1, 0.0]):
            texts, frames, feats, inputs, targets, mask = random_batch(gen, 3 + case, 5)
            m.zero_grad()
            loss = m(feats, frames, inputs, targets, mask, smoothing)
            loss.backward()
            T, B, D = feats.shape
            w([T, B, D, "%g" % smoothing])
            w(frames.tolist())
            w([len(t) for t in texts])
            w([v for t in texts for v in t])
            w(["%.9g" % v for v in feats.reshape(-1).tolist()])
            w(["%.12g" % loss.item()])
            named = list(m.named_parameters())
            w([len(named)])
            for name, p in named:
                w([name, p.numel()] + ["%.9g" % v for v in p.grad.reshape(-1).tolist()])


def cmd_bench(a):
    """The speed of the same model on random batches of memsig las bench's shapes."""
    import time
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    m = LAS(40, 3, 1, 64, 1, 128, 32, 64, 0.3)
    B, T, U = a.batch, a.frames, a.symbols
    feats = torch.randn(T, B, 40)
    frames = torch.full((B,), T, dtype=torch.long)
    texts = torch.randint(3, 29, (U, B))
    inputs = torch.cat([torch.zeros(1, B, dtype=torch.long), texts])
    targets = torch.cat([texts, torch.ones(1, B, dtype=torch.long)])
    mask = torch.ones(U + 1, B)
    opt = torch.optim.Adam(m.parameters(), 1e-3)

    def step():
        opt.zero_grad()
        loss = m(feats, frames, inputs, targets, mask, 0.0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 5.0)
        opt.step()
    step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    train_s = time.perf_counter() - t0
    one = feats[:, :1]
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(a.decodes):
            h, lens = m.listen(one, torch.tensor([T]))
            memory = h.transpose(0, 1)
            keys = m.att.key(memory)
            Hs = m.speller[0].hidden_size
            state = [(memory.new_zeros(1, Hs), memory.new_zeros(1, Hs)) for _ in m.speller]
            ctx = memory.new_zeros(1, memory.shape[2])
            prev = torch.zeros(1, dtype=torch.long)
            for i in range(U):
                x = torch.cat([m.embed(prev), ctx], 1)
                new = []
                for cell, (hh, cc) in zip(m.speller, state):
                    hh, cc = cell(x, (hh, cc))
                    new.append((hh, cc))
                    x = hh
                state = new
                e = m.att.score(torch.tanh(keys + m.att.query(x)[:, None, :])).squeeze(2)
                att = torch.softmax(e, 1)
                ctx = torch.bmm(att[:, None, :], memory).squeeze(1)
                prev = m.out(torch.cat([x, ctx], 1)).argmax(1)
    dec_s = time.perf_counter() - t0
    print(json.dumps({"impl": "torch " + torch.__version__, "threads": a.threads, "batch": B, "frames": T, "symbols": U,
                      "train_utts_per_s": a.steps * B / train_s, "train_x_realtime": a.steps * B * T * 0.01 / train_s,
                      "decode_ms_per_utt": 1000 * dec_s / a.decodes, "decode_x_realtime": a.decodes * T * 0.01 / dec_s}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--seed", type=int, default=5)
    c.add_argument("--location", action="store_true")
    b = sub.add_parser("bench")
    for name, default in [("batch", 16), ("frames", 340), ("symbols", 68), ("steps", 10), ("decodes", 5), ("threads", 1)]:
        b.add_argument("--" + name, type=int, default=default)
    a = ap.parse_args()
    {"check": cmd_check, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    main()
