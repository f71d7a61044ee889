#!/usr/bin/env python3
"""fbank_ref.py SPEC...: each SPEC is FILE.safetensors:MEL_BINS[:energy][:WAV]; compares memsig's Kaldi filterbanks with
torchaudio.compliance.kaldi.fbank (torchaudio 0.13) on the same samples.

FILE holds what `memsig speech fbank --audio WAV --out FILE` wrote: `samples` [N] (the 16 kHz samples
in [-1, 1] as memsig read them) and `fbank` [frames, dim]. torchaudio gets the samples on Kaldi's
int16 scale (x 32768) with dither 0 (its default is 1.0) and energy_floor 0 (its default; Kaldi's
compute-fbank-feats default is 0 too), once in float64 (the test: memsig computes in double) and
once in float32 (torchaudio's usual precision; shown, not tested: in the quietest bins float32's own
rounding moves the log by up to ~1e-2, as float32 against float64 torchaudio shows). With WAV (a 16 kHz 16-bit file), torchaudio's own reading of
it must give the same samples. Prints the largest differences; exits 1 when any value differs by more
than 1e-3 relative (|a - b| <= 1e-3 * max(1, |b|): a log of energy near 1 has no relative scale).
"""
import json
import struct
import sys

import torch
import torchaudio


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        assert t["dtype"] == "F32", t["dtype"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t["shape"])
    return out


def main():
    status = 0
    for spec in sys.argv[1:]:
        status |= compare(spec)
    return status


def compare(spec):
    parts = spec.split(":")
    path, bins = parts[0], int(parts[1])
    energy = "energy" in parts[2:]
    rest = [a for a in parts[2:] if a and a != "energy"]
    print(f"{spec}:")
    t = load_safetensors(path)
    x = t["samples"]
    if rest:
        wav, rate = torchaudio.load(rest[0])
        assert rate == 16000, rate
        d = (wav[0] - x).abs().max().item()
        print(f"samples: torchaudio.load and memsig agree to {d:.2e}")
        if d > 1e-6:
            print("FAIL: samples differ")
            return 1
    kw = dict(num_mel_bins=bins, sample_frequency=16000.0, frame_length=25.0,
        frame_shift=10.0, dither=0.0, energy_floor=0.0, preemphasis_coefficient=0.97, remove_dc_offset=True,
        window_type="povey", low_freq=20.0, high_freq=0.0, use_energy=energy, use_log_fbank=True, use_power=True,
        snip_edges=True)
    ref = torchaudio.compliance.kaldi.fbank((x.double() * 32768.0).unsqueeze(0), **kw)
    ref32 = torchaudio.compliance.kaldi.fbank((x * 32768.0).unsqueeze(0), **kw).double()
    ours = t["fbank"].double()
    if ours.shape != ref.shape:
        print(f"FAIL: shapes differ: memsig {list(ours.shape)}, torchaudio {list(ref.shape)}")
        return 1
    diff = (ours - ref).abs()
    rel = diff / ref.abs().clamp(min=1.0)
    i = int(rel.argmax())
    print(f"{bins} mel bins, against torchaudio float64{' + energy' if energy else ''}, {ref.shape[0]} frames: max |diff| {diff.max().item():.3e}, "
          f"max relative {rel.max().item():.3e} (memsig {ours.flatten()[i].item():.5f} vs torchaudio {ref.flatten()[i].item():.5f}), "
          f"mean |diff| {diff.mean().item():.3e}")
    for name, a in (("memsig", ours), ("torchaudio float32", ref32)):
        r = (a - ref).abs() / ref.abs().clamp(min=1.0)
        r32 = (a - ref32).abs() / ref32.abs().clamp(min=1.0)
        print(f"  {name}: against torchaudio float64 max relative {r.max().item():.2e}; against torchaudio float32 "
              f"max relative {r32.max().item():.2e}, {100.0 * (r32 <= 1e-3).double().mean().item():.3f}% within 1e-3")
    if rel.max().item() > 1e-3:
        print("FAIL: beyond 1e-3 relative")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
