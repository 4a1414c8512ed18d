#!/usr/bin/python3
"""Numeric parity: the C that netc generates computes what PyTorch computes.

For every model of torch_models.MODELS (and VARIANTS):
  1. build it in PyTorch with a fixed seed, in eval mode, and give every BatchNorm
     random running statistics and affine parameters (so that folding them into the
     convolutions is really exercised), every LayerNorm and GroupNorm random affines,
     and every declared tensor (layer_scale, class_token, ...) random values;
  2. export its state_dict with tools/export_safetensors.py, checking the names and
     shapes against `netc --report=json` first;
  3. `netc models/<name>.net -o <work>/<name>.c --main`, compile it with the runtime
     library, run it on a random input written as raw float32;
  4. compare with PyTorch's output: max |netc - torch| <= 1e-4 * max |torch|, and
     report the worst element on failure.
PyTorch's own model definition is the oracle; no number here is computed by hand.

Usage: /usr/bin/python3 tests/parity/check_numerics.py --netc build/netc --runtime build/libnetcrt.a
       [--work build/parity] [--cc cc] [MODEL ...]
Prints [PASS]/[FAIL] per model and `N passed, N failed`; exits 1 on any failure.
"""

import argparse
import os
import subprocess
import sys
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tools'))

import torch_models  # noqa: E402
from export_safetensors import check_against, netc_weights, save_safetensors  # noqa: E402

TOLERANCE = 1e-4


def randomize_batchnorm(model, gen):
    """Random norm statistics and affines, and random declared tensors: torchvision
    starts ConvNeXt's layer_scale at 1e-6 and ViT's class_token at zero, which would
    hide the branches they scale."""
    for m in model.modules():
        for pname, p in m._parameters.items():
            if p is None or pname in ('weight', 'bias'):
                continue
            if pname == 'in_proj_weight':   # keep PyTorch's init: q k^T of unit weights saturates softmax
                continue
            p.data.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * (0.1 if pname == 'in_proj_bias' else 1))
        if isinstance(m, torch.nn.Linear) and m.bias is not None and not m.bias.any():   # out_proj's bias
            m.bias.data.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * 0.1)
        if isinstance(m, torch.nn.Linear) and not m.weight.any():   # ViT's head starts at zero
            bound = m.in_features ** -0.5
            m.weight.data.copy_((torch.rand(m.weight.shape, generator=gen) * 2 - 1) * bound)
            m.bias.data.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * bound)
        if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm)) and m.weight is not None:
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(m.bias.shape, generator=gen) - 0.5)
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f'{what} failed ({" ".join(cmd)}):\n{r.stderr[-2000:]}')
    return r.stdout


def check_model(name, file_name, defines, builder, args):
    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model, shape = builder()
    model.eval()
    with torch.no_grad():
        randomize_batchnorm(model, gen)
    net_file = os.path.join(ROOT, 'models', f'{file_name}.net')
    dflags = [f'{k}={v}' for k, v in defines.items()]
    sd = model.state_dict()
    errors = check_against(sd, netc_weights(args.netc, net_file, None, dflags))
    if errors:
        return 'state_dict does not match netc: ' + '; '.join(errors[:5])
    work = args.work
    weights = os.path.join(work, f'{name}.safetensors')
    save_safetensors(sd, weights)

    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        ref = model(x)
    if not isinstance(ref, torch.Tensor):
        ref = ref[0]
    inp = os.path.join(work, f'{name}.in.f32')
    outp = os.path.join(work, f'{name}.out.f32')
    with open(inp, 'wb') as f:
        f.write(x.contiguous().numpy().tobytes())

    src = os.path.join(work, f'{name}.c')
    cmd = [args.netc, net_file, '-o', src, '--main']
    for d in dflags:
        cmd += ['-D', d]
    cmd += args.netc_flags.split()
    run(cmd, 'netc')
    exe = os.path.join(work, name)
    run([args.cc, '-std=c99', '-O2', '-Wall', '-Wextra', '-Wpedantic', '-Werror'] + args.cflags.split() +
        ['-I', os.path.join(ROOT, 'runtime'), src, args.runtime, '-lm', '-o', exe], 'compiling the generated C')
    run([exe, '--weights', weights, '--input', inp, '--output', outp], 'running the generated C')
    with open(outp, 'rb') as f:
        got = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    ref = ref.flatten()
    if got.numel() != ref.numel():
        return f'output has {got.numel()} values, PyTorch {ref.numel()}'
    diff = (got - ref).abs()
    worst = int(diff.argmax())
    scale = float(ref.abs().max())
    err = float(diff[worst])
    if not (err <= TOLERANCE * scale):
        return (f'max |netc - torch| = {err:.3g} > {TOLERANCE:g} * {scale:.3g} at element {worst} '
                f'(netc {float(got[worst]):.7g}, torch {float(ref[worst]):.7g})')
    for path in (weights, inp, outp, exe):
        os.remove(path)
    print(f'       {name}: max |netc - torch| = {err:.3g} ({err / scale if scale else 0:.2g} of max |torch| = {scale:.3g})')
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--netc', default=os.environ.get('NETC', os.path.join(ROOT, 'build', 'netc')))
    ap.add_argument('--runtime', default=os.path.join(ROOT, 'build', 'libnetcrt.a'))
    ap.add_argument('--work', default=os.path.join(ROOT, 'build', 'parity'))
    ap.add_argument('--cc', default=os.environ.get('CC', 'cc'))
    ap.add_argument('--cflags', default='', help='extra flags for the generated code (e.g. sanitizers)')
    ap.add_argument('--netc-flags', default='', help='extra netc options (e.g. --max-scratch 0)')
    ap.add_argument('models', nargs='*')
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(2)
    cases = [(n, n, {}, b) for n, b in torch_models.MODELS.items()]
    cases += [(n, f, d, b) for n, (f, d, b) in torch_models.VARIANTS.items()]
    if args.models:
        cases = [c for c in cases if c[0] in args.models]
    passed = failed = 0
    for name, file_name, defines, builder in cases:
        try:
            why = check_model(name, file_name, defines, builder, args)
        except RuntimeError as e:
            why = str(e)
        if why:
            print(f'[FAIL] {name}: {why}')
            failed += 1
        else:
            print(f'[PASS] {name}')
            passed += 1
        sys.stdout.flush()
    print(f'{passed} passed, {failed} failed')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
