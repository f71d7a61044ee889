#!/usr/bin/env python3
"""Random CTC problems and PyTorch 1.13's answers (torch.nn.functional.ctc_loss, reduction 'sum',
zero_infinity=True, gradient with respect to the logits through log_softmax), written as text for
the hidden Catch2 case "[.ctc_torch]" (tests/ctc_torch.sh)."""
import sys
import torch

torch.manual_seed(11)
out = open(sys.argv[1], "w")
for case in range(12):
    T = int(torch.randint(1, 40, ()))
    B = int(torch.randint(1, 6, ()))
    V = int(torch.randint(2, 35, ()))
    blank = int(torch.randint(0, V, ()))
    lengths = torch.randint(0, T + 1, (B,))
    lengths[0] = T
    labels = []
    for b in range(B):
        U = int(torch.randint(0, max(1, T // 2 + 2), ()))
        ys = [int(v) for v in torch.randint(0, V - 1, (U,))]
        labels.append([v + 1 if v >= blank else v for v in ys])  # never the blank
    z = (torch.randn(T, B, V, dtype=torch.float64) * 3).float().double().requires_grad_()
    lp = torch.log_softmax(z, dim=2)
    flat = torch.tensor([v for l in labels for v in l], dtype=torch.long)
    loss = torch.nn.functional.ctc_loss(lp, flat, lengths, torch.tensor([len(l) for l in labels]), blank=blank,
                                        reduction="sum", zero_infinity=True)
    loss.backward()
    w = lambda xs: out.write(" ".join(str(x) for x in xs) + "\n")
    w([T, B, V, blank])
    w(lengths.tolist())
    w([len(l) for l in labels])
    w([v for l in labels for v in l])
    w(["%.9g" % v for v in z.detach().reshape(-1).tolist()])
    w(["%.12g" % loss.item()])
    w(["%.12g" % v for v in z.grad.reshape(-1).tolist()])
out.close()
