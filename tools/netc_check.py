#!/usr/bin/python3
"""Run netc's generated C and a PyTorch model on the same random inputs and compare.

    netc-check --net-file lenet.net --weights lenet.safetensors --model SPEC
               [--runner EXE] [--inputs N] [--tolerance T] [--seed S]
               [--net NAME] [-I DIR]... [-D NAME=VALUE]... [--netc PATH] [--pkg netcrt]

(installed by `make install` as netc-check; tools/netc_check.py in the source tree.)

SPEC is the PyTorch side:
  FILE.py:FUNC  a Python file and a function in it returning the nn.Module; the
                weights of --weights are loaded into it (load_state_dict, strict)
  FILE.pt       a TorchScript archive (torch.jit.save) or a whole model saved
                with torch.save(model, ...), with its own weights
The C side is --runner, a program built from `netc --main` (it reads
--weights W --input IN.f32... and writes --output OUT.f32...). Without
--runner, netc-check builds one in a temporary directory: netc --main (with
--net, -I, -D), then $CC (default cc) -O2 with `pkg-config --cflags --libs
netcrt` (--pkg netcrt-omp for the OpenMP runtime).

The input shapes come from `netc --report=json` of --net-file. Each of N
inputs is drawn from a normal distribution (torch.randn, seeded with --seed);
both sides run in eval mode, and for every output the error is
max |netc - torch| / max |torch|. netc-check prints the largest over all
inputs and outputs and exits 0 if it is at most --tolerance (default 1e-4,
the bound `make check` holds every model in models/ to), 1 otherwise or on any
error (a message, never a traceback), 2 on bad usage.
"""

import argparse
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import torch

PROG = 'netc-check'
DEFAULT_TOLERANCE = 1e-4


def fail(msg):
    raise SystemExit(f'{PROG}: {msg}')


def find_netc(given):
    """--netc, else the netc installed beside this command, else netc on PATH."""
    if given:
        return given
    beside = os.path.join(os.path.dirname(os.path.realpath(sys.argv[0])), 'netc')
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which('netc')
    if not found:
        fail(f'no netc beside {sys.argv[0]} or on PATH: give its path with --netc')
    return found


_said = set()


def run(cmd, what):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        fail(f'{what}: cannot run {cmd[0]!r}: {e.strerror}')
    if r.returncode != 0:
        fail(f'{what} failed ({" ".join(cmd)}):\n{r.stderr.rstrip()}')
    if r.stderr.strip() and r.stderr not in _said:  # warnings (the runner's about --threads), once each
        _said.add(r.stderr)
        print(r.stderr.rstrip(), file=sys.stderr)
    return r.stdout


def read_safetensors(path):
    """name -> tensor for the F32 and I64 tensors netc's runtime loads."""
    dtypes = {'F32': (torch.float32, 4), 'I64': (torch.int64, 8)}
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        fail(f'{path}: {e.strerror}')
    try:
        (n,) = struct.unpack('<Q', data[:8])
        header = json.loads(data[8:8 + n])
        body = data[8 + n:]
        sd = {}
        for name, v in header.items():
            if name == '__metadata__':
                continue
            dtype, size = dtypes[v['dtype']]
            b, e = v['data_offsets']
            t = torch.frombuffer(bytearray(body[b:e]), dtype=dtype) if e > b else torch.zeros(0, dtype=dtype)
            sd[name] = t.reshape(v['shape'])
    except (struct.error, ValueError, KeyError, TypeError, RuntimeError) as e:
        fail(f'{path}: not a safetensors file netc can load ({type(e).__name__}: {e})')
    return sd


def load_model(spec, weights):
    """The PyTorch model of SPEC, in eval mode."""
    if spec.endswith('.pt') or spec.endswith('.pth'):
        if not os.path.exists(spec):
            fail(f'{spec}: no such file')
        try:
            model = torch.jit.load(spec, map_location='cpu')
        except Exception:  # not TorchScript: a pickled whole model
            try:
                model = torch.load(spec, map_location='cpu')
            except Exception as e:
                fail(f'{spec}: neither TorchScript nor a saved model ({type(e).__name__}: {e})')
        if not callable(model):
            fail(f'{spec} holds a {type(model).__name__}, not a model (a state_dict? use FILE.py:FUNC and --weights)')
        return model.eval()
    path, sep, func = spec.rpartition(':')
    if not sep or not path.endswith('.py') or not func:
        fail(f'--model {spec!r}: expected FILE.py:FUNC or FILE.pt')
    if not os.path.exists(path):
        fail(f'{path}: no such file')
    try:
        mspec = importlib.util.spec_from_file_location('netc_check_model', path)
        mod = importlib.util.module_from_spec(mspec)
        mspec.loader.exec_module(mod)
    except Exception as e:
        fail(f'{path}: cannot import it ({type(e).__name__}: {e})')
    if not callable(getattr(mod, func, None)):
        fail(f'{path} has no function {func!r}')
    try:
        model = getattr(mod, func)()
    except Exception as e:
        fail(f'{path}:{func}() failed ({type(e).__name__}: {e})')
    if not isinstance(model, torch.nn.Module):
        fail(f'{path}:{func}() returned a {type(model).__name__}, not an nn.Module')
    try:
        model.load_state_dict(read_safetensors(weights), strict=True)
    except RuntimeError as e:
        fail(f'{weights} does not load into {path}:{func}():\n{e}')
    return model.eval()


def build_runner(netc, net_args, work, pkg):
    src = os.path.join(work, 'net.c')
    run([netc] + net_args + ['-o', src, '--main'], 'netc --main')
    flags = run(['pkg-config', '--cflags', '--libs', pkg], f'pkg-config {pkg}').split()
    exe = os.path.join(work, 'net')
    cc = os.environ.get('CC', 'cc')
    run([cc, '-std=c99', '-O2', src] + flags + ['-o', exe], 'compiling the runner')
    return exe


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--net-file', required=True, help='the .net file (input shapes; the runner is built from it)')
    ap.add_argument('--weights', required=True, help='the .safetensors file both sides use')
    ap.add_argument('--model', required=True, metavar='SPEC', help='FILE.py:FUNC or FILE.pt (see above)')
    ap.add_argument('--runner', help='a runner built with netc --main (default: build one)')
    ap.add_argument('--inputs', type=int, default=5, metavar='N', help='random inputs to compare (default 5)')
    ap.add_argument('--tolerance', type=float, default=DEFAULT_TOLERANCE, metavar='T',
                    help=f'largest max |netc - torch| / max |torch| accepted (default {DEFAULT_TOLERANCE:g})')
    ap.add_argument('--seed', type=int, default=0, help='seed of the random inputs (default 0)')
    ap.add_argument('--threads', type=int, metavar='T', help="the runner's --threads")
    ap.add_argument('--net', help='the net in --net-file, if it has several')
    ap.add_argument('-I', dest='includes', action='append', default=[], metavar='DIR', help='netc -I')
    ap.add_argument('-D', dest='defines', action='append', default=[], metavar='NAME=VALUE', help='netc -D')
    ap.add_argument('--netc', help='netc (default: beside this command, else on PATH)')
    ap.add_argument('--pkg', default='netcrt', help='pkg-config package of the runtime to build with')
    a = ap.parse_args()
    if a.inputs < 1:
        ap.error('--inputs must be at least 1')
    for path in (a.net_file, a.weights):
        if not os.path.exists(path):
            fail(f'{path}: no such file')
    if a.runner and not os.path.exists(a.runner):
        fail(f'{a.runner}: no such file')
    netc = find_netc(a.netc)
    net_args = [a.net_file] + (['--net', a.net] if a.net else [])
    for d in a.includes:
        net_args += ['-I', d]
    for d in a.defines:
        net_args += ['-D', d]
    try:
        report = json.loads(run([netc, '--report=json'] + net_args, 'netc --report=json'))
    except ValueError as e:
        fail(f'netc --report=json printed no JSON ({e})')
    model = load_model(a.model, a.weights)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    gen = torch.Generator().manual_seed(a.seed)
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix='netc-check.') as work:
        runner = a.runner or build_runner(netc, net_args, work, a.pkg)
        for k in range(a.inputs):
            xs = [torch.randn(*i['shape'], generator=gen) for i in report['inputs']]
            cmd = [runner, '--weights', a.weights]
            if a.threads:
                cmd += ['--threads', str(a.threads)]
            for j, x in enumerate(xs):
                path = os.path.join(work, f'in{j}.f32')
                with open(path, 'wb') as f:
                    f.write(x.contiguous().numpy().tobytes())
                cmd += ['--input', path]
            outs = [os.path.join(work, f'out{j}.f32') for j in range(len(report['outputs']))]
            for path in outs:
                cmd += ['--output', path]
            run(cmd, 'the runner')
            try:
                with torch.no_grad():
                    ref = model(*xs)
            except Exception as e:
                fail(f'the PyTorch model failed on inputs of shape '
                     f'{", ".join(str(list(x.shape)) for x in xs)} ({type(e).__name__}: {e})')
            refs = list(ref) if isinstance(ref, (tuple, list)) else [ref]
            if len(refs) != len(outs):
                fail(f"net '{report['net']}' has {len(outs)} output(s), the PyTorch model returned {len(refs)}")
            for j, (path, r) in enumerate(zip(outs, refs)):
                with open(path, 'rb') as f:
                    got = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
                r = r.detach().flatten().float()
                if got.numel() != r.numel():
                    fail(f'output {j}: netc wrote {got.numel()} values, PyTorch returned {r.numel()}')
                scale = float(r.abs().max()) if r.numel() else 0.0
                err = float((got - r).abs().max()) if r.numel() else 0.0
                rel = err / scale if scale > 0 else err
                if rel != rel:  # NaN on either side
                    rel = float('inf')
                worst = max(worst, rel)
    ok = worst <= a.tolerance
    print(f"{PROG}: net '{report['net']}': {a.inputs} random input(s), max relative error {worst:.3g} "
          f"(max |netc - torch| / max |torch|), tolerance {a.tolerance:g}: {'OK' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
