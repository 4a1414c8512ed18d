#!/usr/bin/python3
"""Random differential testing of netc against PyTorch.

Each case (tests/diff/gen.py) is a random valid network, written as a .net file and as
a PyTorch nn.Module with the same state_dict names. For every case:

  (a) `netc --report=json` against PyTorch: every layer's name, op and output shape
      (forward hooks on the modules, the forward's own values for add/sub/mul/concat/pad),
      per-layer and total params and buffers, MACs and FLOPs counted here from the
      modules' hyperparameters with the conventions of language.md section 12, the
      weight list (names, shapes, kinds, order) and the input and output shapes;
  (b) `netc case.net -o case.c --main`, compiled with the runtime library and run on
      random weights (batch-norm statistics and layer-norm affines included) and a
      random input. Each output must satisfy

          max|netc - ref| <= 1e-4 * max(max|ref|, 1e-3) + 10 * max|torch32 - ref|

      where ref is the PyTorch forward in float64 (weights and input rounded to float32
      first) and torch32 the same forward in float32: the second term lets through what
      float32 itself cannot resolve, which only matters for ill-conditioned cases;
  (c) a deterministic share of cases is built differently (case index mod 8): 3 with
      ASan + UBSan (runtime and generated code, -fno-sanitize-recover=all), 5 with an
      OpenMP runtime run with --threads 2, 7 with the weights compiled in
      (`netc --weights W.safetensors`, half of them --weights-hex; no --weights at run
      time), 1 with a portable runtime (no -march: the scalar kernels), 6 with an AVX2
      one (-march=haswell). The others use the given runtime (make's: -march=native).

A failing case is shrunk (tests/diff/shrink.py) while it keeps failing the same way and
saved under tests/diff/regressions/ (NAME.json with the spec, NAME.net to read). --replay
re-checks every saved regression.

Usage:
  difftest.py [--cases N] [--seed S] [--jobs J] [--netc build/netc]
              [--runtime build/libnetcrt.a] [--work build/difftest] [--no-shrink]
              [--avoid-known] [--replay] [--case S:I ...] [-v]
Prints one line per failure and ends with `N passed, N failed`; exits 1 on any failure.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.dont_write_bytecode = True

import gen          # noqa: E402

REGRESSIONS = os.path.join(HERE, 'regressions')
MODES = {1: 'portable', 3: 'asan', 5: 'omp', 6: 'avx2', 7: 'embed'}
SAN = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer']


def runtime_sources():
    """The runtime's sources as runtime/runtime.mk lists them (RUNTIME_SRCS): the one
    list, so a file added to the runtime is in these builds too."""
    with open(os.path.join(ROOT, 'runtime', 'runtime.mk'), encoding='utf-8') as f:
        text = f.read().replace('\\\n', ' ')
    m = re.search(r'^RUNTIME_SRCS\s*:?=(.*)$', text, re.M)
    if not m:
        sys.exit('difftest: runtime/runtime.mk has no RUNTIME_SRCS list')
    return [os.path.basename(w)[:-2] for w in m.group(1).split() if w.endswith('.c')]


RUNTIME_SRCS = runtime_sources()
WARN = ['-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror']


def mode_of(index):
    return MODES.get(index % 8, 'plain')


# ---------------------------------------------------------------------------- runtimes

def build_runtime(work, name, flags, cc):
    """libnetcrt.a built from runtime/ with flags, in work/rt-NAME; reused while the
    sources and flags are unchanged (a hash of both names the build)."""
    h = hashlib.sha256((' '.join([cc] + flags)).encode())
    for s in RUNTIME_SRCS + ['netc_rt', 'netc_internal']:
        ext = '.h' if s.startswith('netc_') else '.c'
        with open(os.path.join(ROOT, 'runtime', s + ext), 'rb') as f:
            h.update(f.read())
    out = os.path.join(work, 'rt-' + name)
    lib = os.path.join(out, 'libnetcrt.a')
    stamp = os.path.join(out, 'hash')
    if os.path.exists(lib) and os.path.exists(stamp) and open(stamp).read() == h.hexdigest():
        return lib
    os.makedirs(out, exist_ok=True)
    objs = []
    procs = []
    for s in RUNTIME_SRCS:
        obj = os.path.join(out, s + '.o')
        objs.append(obj)
        procs.append(subprocess.Popen([cc] + flags + ['-c', os.path.join(ROOT, 'runtime', s + '.c'),
                                                      '-o', obj], stderr=subprocess.PIPE))
        if len(procs) >= 2:
            wait_ok(procs.pop(0), name)
    for p in procs:
        wait_ok(p, name)
    if os.path.exists(lib):
        os.remove(lib)
    subprocess.run(['ar', 'rcs', lib] + objs, check=True)
    with open(stamp, 'w') as f:
        f.write(h.hexdigest())
    return lib


def wait_ok(p, name):
    _, err = p.communicate()
    if p.returncode != 0:
        sys.exit('difftest: building the %s runtime failed:\n%s' % (name, err.decode()[-3000:]))


def runtimes(args):
    """The runtime library per mode: the given one, and ASan / OpenMP builds."""
    base = ['-std=c99', '-g', '-march=native']
    return {'plain': args.runtime, 'embed': args.runtime,
            'asan': build_runtime(args.work, 'asan', base + ['-O1'] + SAN, args.cc),
            'omp': build_runtime(args.work, 'omp', base + ['-O2', '-fopenmp'], args.cc),
            'portable': build_runtime(args.work, 'portable', ['-std=c99', '-g', '-O2'], args.cc),
            'avx2': build_runtime(args.work, 'avx2', ['-std=c99', '-g', '-O2', '-march=haswell'],
                                  args.cc)}


# ---------------------------------------------------------------------------- one case

class Fail(Exception):
    """A check failed: sig is how (for the shrinker), detail the human-readable reason."""

    def __init__(self, sig, detail):
        super().__init__(detail)
        self.sig, self.detail = tuple(sig), detail


def run(cmd, what, sig, timeout=120, env=None, strip=None):
    """Runs cmd; raises Fail with sig + (kind, first error) if it fails. strip: a
    directory removed from the messages."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Fail((what, 'timeout'), '%s timed out after %d s' % (what, timeout))
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip()
        if r.returncode < 0:
            kind = 'signal %s' % signal.Signals(-r.returncode).name
        elif 'Sanitizer' in msg or 'runtime error:' in msg:
            kind = 'sanitizer'
        else:
            kind = 'exit'
        if strip:
            msg = msg.replace(strip.rstrip('/') + '/', '')
        raise Fail(sig + (kind, first_error(msg)), '%s failed (%s): %s' % (what, kind, summarize(msg)))
    return r.stdout


def summarize(msg):
    lines = [l for l in msg.splitlines() if l.strip()]
    keep = [l for l in lines if 'error' in l.lower() or 'Sanitizer' in l] or lines
    return ' | '.join(keep[:3])[:400]


def first_error(msg):
    """The first error message with names and numbers blanked: what a failure is, not
    where (so a shrunk case must fail with the same kind of message)."""
    for line in msg.splitlines():
        m = re.search(r'(AddressSanitizer|LeakSanitizer): ([\w-]+)', line)
        if m:
            return m.group(1) + ' ' + m.group(2)
        for key in ('runtime error:', 'error:'):
            if key in line:
                text = line.split(key, 1)[1]
                text = re.sub(r"[‘'\"][^’'\"]*[’'\"]", 'Q', text)
                return key + re.sub(r'\d+', 'N', text).strip()[:80]
    return ''


def init_weights(model, wseed):
    """Random, non-trivial values for every weight: PyTorch's init for conv/linear, and
    random batch-norm statistics and affine parameters, random layer-norm affines."""
    import torch
    gen_ = torch.Generator().manual_seed(wseed)
    with torch.no_grad():
        # The net's declared tensors (language.md 5.8): params in [-1, 1), float
        # buffers in [-0.5, 0.5), index buffers within the dims they index.
        for name, p in model._parameters.items():
            p.copy_(torch.rand(p.shape, generator=gen_) * 2 - 1)
        for name, b in model._buffers.items():
            if b.dtype == torch.int64:
                b.copy_(torch.randint(0, model.index_limits[name], b.shape, generator=gen_))
            else:
                b.copy_(torch.rand(b.shape, generator=gen_) - 0.5)
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv1d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
                m.weight.copy_((torch.rand(m.weight.shape, generator=gen_) * 2 - 1) *
                               (3.0 / max(1, m.weight[0].numel())) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen_) - 0.5)
            elif isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=gen_) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=gen_) + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(0, 1000, (1,), generator=gen_)))
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=gen_) + 0.5)
                    m.bias.copy_(torch.rand(n, generator=gen_) - 0.5)
            elif isinstance(m, torch.nn.GroupNorm) and m.affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen_) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen_) - 0.5)
            elif isinstance(m, torch.nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen_) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen_) - 0.5)
    return gen_


def numel(shape):
    n = 1
    for v in shape:
        n *= v
    return n


def torch_costs(layer, mod, ins, out):
    """(params, buffers, MACs, FLOPs) of one layer call, from the PyTorch module's
    hyperparameters and the shapes, with language.md section 12's conventions."""
    import torch.nn as nn
    op, n_out = layer['op'], numel(out)
    params = sum(p.numel() for p in mod.parameters()) if mod is not None else 0
    buffers = sum(b.numel() for name, b in mod.named_buffers()
                  if not name.endswith('num_batches_tracked')) if mod is not None else 0
    macs, flops = 0, 0
    if op in gen.DECL_OPS:    # a declared tensor: its elements are params or buffers
        n = numel(out)
        return (n, 0, 0, 0) if op == 'param' else (0, n, 0, 0)
    if isinstance(mod, nn.Conv2d):
        kh, kw = mod.kernel_size
        macs = n_out * (mod.in_channels // mod.groups) * kh * kw
    elif isinstance(mod, nn.ConvTranspose2d):
        kh, kw = mod.kernel_size
        macs = numel(ins[0]) * (mod.out_channels // mod.groups) * kh * kw
    elif isinstance(mod, nn.Conv1d):
        macs = n_out * (mod.in_channels // mod.groups) * mod.kernel_size[0]
    elif isinstance(mod, nn.Linear):
        macs = n_out * mod.in_features
    elif op == 'matmul':
        macs = n_out * ins[0][-1]
    if macs:
        flops = 2 * macs + (n_out if mod is not None and mod.bias is not None else 0)
    elif isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)) or op == 'normalize':
        flops = 2 * n_out
    elif isinstance(mod, nn.LayerNorm):
        flops = (7 if mod.elementwise_affine else 5) * n_out
    elif isinstance(mod, nn.GroupNorm):
        flops = (7 if mod.affine else 5) * n_out
    elif isinstance(mod, nn.Softplus):
        flops = 3 * n_out
    elif isinstance(mod, nn.MaxPool2d):
        kh, kw = gen.pair(mod.kernel_size)
        flops = (kh * kw - 1) * n_out
    elif isinstance(mod, nn.AvgPool2d):
        kh, kw = gen.pair(mod.kernel_size)
        flops = kh * kw * n_out
    elif isinstance(mod, (nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool1d)):
        flops = numel(ins[0])
    elif isinstance(mod, nn.MaxPool1d):
        flops = (mod.kernel_size - 1) * n_out
    elif isinstance(mod, nn.AvgPool1d):
        flops = mod.kernel_size[0] * n_out
    elif isinstance(mod, (nn.Softmax, nn.LogSoftmax)):
        flops = 3 * n_out
    elif op == 'mean':
        flops = numel(ins[0])
    elif op in ('upsample', 'interpolate'):
        flops = 7 * n_out if layer['a'].get('mode') == 'bilinear' else 0
    elif op in ('sum', 'amax'):
        flops = numel(ins[0]) - n_out
    elif isinstance(mod, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU, nn.Hardswish,
                          nn.Hardsigmoid, nn.Mish, nn.ELU)):
        flops = n_out
    elif op in ('add', 'sub', 'mul', 'div'):
        flops = n_out
    return params, buffers, macs, flops


def check_report(rep, spec, model, shapes_by_layer, trace_shapes):
    """(a): the JSON report against the PyTorch model. Raises Fail on the first mismatch."""
    import torch
    names = gen.layer_names(spec)
    k = len(spec['inputs'])
    layers = [l for l in rep['layers'] if l['op'] != 'input']
    if len(layers) != len(spec['layers']):
        raise Fail(('report', 'layer-count'), 'netc built %d layers, the spec has %d'
                   % (len(layers), len(spec['layers'])))
    calls = {}
    totals = {'params': 0, 'buffers': 0, 'macs': 0, 'flops': 0}
    for i, (got, layer) in enumerate(zip(layers, spec['layers'])):
        op, name = layer['op'], names[i]
        where = 'layer %s (%s)' % (name, op)
        if got['name'] != name:
            raise Fail(('report', 'name', op), '%s: netc names it %r' % (where, got['name']))
        if got['op'] != op:
            raise Fail(('report', 'op', op), '%s: netc op %r' % (where, got['op']))
        if op in gen.MODULE_OPS:
            c = calls.get(name, 0)
            calls[name] = c + 1
            want = shapes_by_layer[name][c]
            mod = model._modules[name]
            first = c == 0
        else:
            want, mod, first = trace_shapes[k + i], None, True
        if got['shape'] != want:
            raise Fail(('report', 'shape', op), '%s: netc shape %s, PyTorch %s'
                       % (where, got['shape'], want))
        ins = [trace_shapes[s] for s in layer['src']]
        p, b, macs, flops = torch_costs(layer, mod, ins, want)
        if not first:
            p = b = 0                 # a shared module's weights count once
        for key, val in (('params', p), ('buffers', b), ('macs', macs), ('flops', flops)):
            if got[key] != val:
                raise Fail(('report', key, op), '%s: netc %s %d, PyTorch %d'
                           % (where, key, got[key], val))
            totals[key] += val
    for key, val in totals.items():
        if rep['totals'][key] != val:
            raise Fail(('report', 'total-' + key), 'totals.%s: netc %d, PyTorch %d'
                       % (key, rep['totals'][key], val))
    if totals['params'] != sum(p.numel() for p in model.parameters()):
        raise Fail(('harness', 'params'), 'per-layer params do not add up to the model\'s')
    want_w = [(n, list(t.shape), 'i64' if t.dtype == torch.int64 else 'f32')
              for n, t in model.state_dict().items()]
    got_w = [(w['name'], w['shape'], w['dtype']) for w in rep['weights']]
    if got_w != want_w:
        diff = next((i for i, (g, w) in enumerate(zip(got_w, want_w)) if g != w), min(len(got_w), len(want_w)))
        raise Fail(('report', 'weights'), 'weight #%d: netc %s, PyTorch state_dict %s'
                   % (diff, got_w[diff] if diff < len(got_w) else None,
                      want_w[diff] if diff < len(want_w) else None))
    params = {n for n, _ in model.named_parameters()}
    for w in rep['weights']:
        if (w['kind'] == 'param') != (w['name'] in params):
            raise Fail(('report', 'weight-kind'), '%s: netc kind %s' % (w['name'], w['kind']))
    ins = [i['shape'] for i in rep['inputs']]
    if ins != [i['shape'] for i in spec['inputs']]:
        raise Fail(('report', 'inputs'), 'inputs %s' % ins)
    outs = [o['shape'] for o in rep['outputs']]
    if outs != [trace_shapes[o] for o in spec['outputs']]:
        raise Fail(('report', 'outputs'), 'outputs %s, PyTorch %s'
                   % (outs, [trace_shapes[o] for o in spec['outputs']]))


def torch_run(model, spec, xs):
    """Forward with hooks: (outputs, module name -> [output shapes per call], all node shapes)."""
    import torch
    calls = {}
    hooks = []
    for name, mod in model.named_children():
        def hook(m, inp, out, name=name):
            calls.setdefault(name, []).append(list(out.shape))
        hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        outs = model(*xs)
    for h in hooks:
        h.remove()
    return outs, calls, [list(t.shape) for t in model.trace]


def compare(got, ref, t32):
    """None if got (netc, float32) is within the bound of ref (float64), else a reason."""
    import torch
    if got.numel() != ref.numel():
        return 'netc wrote %d values, PyTorch has %d' % (got.numel(), ref.numel())
    ref, t32 = ref.flatten(), t32.flatten().double()
    got = got.double()
    if ref.numel() == 0:
        return None
    diff = (got - ref).abs()
    diff[(got == ref) | (torch.isnan(got) & torch.isnan(ref))] = 0   # equal infinities, NaN both
    diff[torch.isnan(diff)] = float('inf')
    worst = int(diff.argmax())
    err = float(diff[worst])
    finite = ref[torch.isfinite(ref)]
    scale = max(float(finite.abs().max()) if finite.numel() else 0.0, 1e-3)
    noise = (t32 - ref).abs()
    noise[t32 == ref] = 0
    noise = float(noise.max())
    tol = 1e-4 * scale + 10 * noise
    if err <= tol:
        return None
    return ('max|netc - torch| = %.3g > %.3g at element %d (netc %.7g, torch %.7g, max|torch| %.3g)'
            % (err, tol, worst, float(got[worst]), float(ref[worst]), scale))


def check_case(spec, wseed, mode, work, tools, keep=False):
    """Runs every check of one case in directory work. Returns None or a Fail."""
    try:
        _check(spec, wseed, mode, work, tools)
    except Fail as f:
        return f
    except (gen.Invalid, KeyError, IndexError, TypeError, ValueError, OSError) as e:
        # A spec this version of gen.py cannot handle (an old regression?) or a harness bug.
        return Fail(('harness', type(e).__name__), 'the harness failed: %r' % e)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return None


# The largest model embedded with --weights-hex (floats).
HEX_MAX_FLOATS = 200000


def _check(spec, wseed, mode, work, tools):
    import torch
    from export_safetensors import save_safetensors
    os.makedirs(work, exist_ok=True)
    net = os.path.join(work, 'case.net')
    with open(net, 'w', encoding='utf-8') as f:
        f.write(gen.render_net(spec))
    out = run([tools['netc'], '--report=json', '-w', net], 'netc --report=json', ('netc',), strip=work)
    try:
        rep = json.loads(out)
    except ValueError as e:
        raise Fail(('report', 'json'), 'netc --report=json is not valid JSON: %s' % e)
    KERNELS.update('%s:%s' % (l['op'], l.get('kernel')) for l in rep['layers'] if l['op'] != 'input')
    try:
        model = gen.build_torch(spec)
        model.eval()
        g = init_weights(model, wseed)
        xs = [torch.randn(*i['shape'], generator=g) for i in spec['inputs']]
        outs, calls, trace = torch_run(model, spec, xs)
    except (RuntimeError, ValueError) as e:
        raise Fail(('torch', 'error'), 'PyTorch rejected the case (a generator bug?): %s' % e)
    check_report(rep, spec, model, calls, trace)

    # (b) and (c): the generated C.
    wfile = os.path.join(work, 'w.safetensors')
    save_safetensors(model.state_dict(), wfile)
    src = os.path.join(work, 'case.c')
    cmd = [tools['netc'], net, '-o', src, '--main', '-w']
    if mode == 'embed':
        # Hex float literals compile slowly (a minute for a few million, as
        # netc --help warns): only small models take them, so the run's
        # time goes to cases rather than to the C compiler.
        hex_ok = rep['totals']['params'] + rep['totals']['buffers'] <= HEX_MAX_FLOATS
        cmd += ['--weights', wfile] + (['--weights-hex'] if wseed % 2 and hex_ok else [])
    run(cmd, 'netc -o', ('netc-c',), strip=work)
    exe = os.path.join(work, 'case')
    cflags = WARN + ['-O1', '-g', '-I', os.path.join(ROOT, 'runtime')]
    if mode == 'asan':
        cflags += SAN
    if mode in ('plain', 'embed'):
        cflags += tools['cflags']  # what --runtime was built with needs (make check SANITIZE=1)
    if mode == 'omp':
        cflags += ['-fopenmp']
    srcs = [src] + ([os.path.join(work, 'case_weights.c')] if mode == 'embed' else [])
    run([tools['cc']] + cflags + srcs + [tools['runtime'][mode], '-lm', '-o', exe],
        'compiling the generated C', ('cc',), strip=work)
    cmd = [exe]
    if mode != 'embed':
        cmd += ['--weights', wfile]
    for j, x in enumerate(xs):
        path = os.path.join(work, 'in%d.f32' % j)
        with open(path, 'wb') as f:
            f.write(x.contiguous().numpy().tobytes())
        cmd += ['--input', path]
    for j in range(len(outs)):
        cmd += ['--output', os.path.join(work, 'out%d.f32' % j)]
    if mode == 'omp':
        cmd += ['--threads', '2']
    env = dict(os.environ, ASAN_OPTIONS='detect_leaks=1:abort_on_error=0',
               UBSAN_OPTIONS='print_stacktrace=1', OMP_NUM_THREADS='2')
    run(cmd, 'the generated runner', ('run',), timeout=120, env=env, strip=work)

    ref64 = gen.build_torch(spec)
    ref64.load_state_dict(model.state_dict())
    ref64 = ref64.double().eval()
    with torch.no_grad():
        refs = ref64(*[x.double() for x in xs])
    for j, (t32, ref) in enumerate(zip(outs, refs)):
        with open(os.path.join(work, 'out%d.f32' % j), 'rb') as f:
            got = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
        why = compare(got, ref, t32)
        if why:
            raise Fail(('numeric',), 'output %d %s: %s' % (j, list(ref.shape), why))


# ---------------------------------------------------------------------------- the pool

TOOLS = {}
KERNELS = set()          # op:kernel pairs the reports named (coverage, for -v)


def worker_init(tools):
    import warnings
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings('ignore')      # PyTorch's notes on padding="same" and the like
    TOOLS.update(tools)


def task(item):
    """One case in a worker: (id, spec, wseed, mode) -> (id, None | (sig, detail), seconds)."""
    cid, spec, wseed, mode, work, keep = item
    t0 = time.time()
    KERNELS.clear()
    f = check_case(spec, wseed, mode, work, TOOLS, keep)
    return cid, None if f is None else (f.sig, f.detail), time.time() - t0, sorted(KERNELS)


def shrink_task(item):
    import shrink
    cid, spec, wseed, mode, sig, work, budget = item

    def still_fails(cand):
        f = check_case(cand, wseed, mode, work, TOOLS)
        return f is not None and f.sig == tuple(sig)

    small, tries = shrink.shrink(spec, still_fails, budget)
    f = check_case(small, wseed, mode, work, TOOLS)
    return cid, small, tries, (f.sig, f.detail) if f else None


def case_seed(seed, index):
    return int(hashlib.sha256(b'%d:%d' % (seed, index)).hexdigest()[:8], 16)


def regression_files(where=REGRESSIONS):
    if not os.path.isdir(where):
        return []
    return sorted(os.path.join(where, f) for f in os.listdir(where) if f.endswith('.json'))


def saved(save_dir):
    """(key -> path, signature -> path) of the regressions in tests/diff/regressions/ and
    save_dir. A key is the failure signature plus the shrunk case's ops."""
    keys, sigs = {}, {}
    for path in regression_files() + (regression_files(save_dir) if save_dir != REGRESSIONS else []):
        with open(path, encoding='utf-8') as f:
            rec = json.load(f)
        keys[tuple(rec['key'])] = path
        sigs.setdefault(tuple(rec['failure']['sig']), path)
    return keys, sigs


def save_regression(save_dir, case_id, spec, wseed, mode, sig, detail):
    """Writes SAVE_DIR/NAME.json (+ .net). Returns the path, or None when a regression
    with the same failure signature and the same ops is already saved."""
    ops = sorted({l['op'] for l in spec['layers']})
    key = list(sig) + ops
    if tuple(key) in saved(save_dir)[0]:
        return None
    os.makedirs(save_dir, exist_ok=True)
    body = json.dumps(spec, sort_keys=True)
    words = re.sub(r'[^A-Za-z0-9]+', '_', ' '.join(sig[2:])).strip('_').lower()[:40]
    name = '%s-%s%s' % (sig[0], words + '-' if words else '', hashlib.sha256(body.encode()).hexdigest()[:8])
    path = os.path.join(save_dir, name + '.json')
    rec = {'found': case_id, 'mode': mode, 'wseed': wseed, 'key': key,
           'failure': {'sig': list(sig), 'detail': detail}, 'spec': spec}
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(rec, f, indent=1)
        f.write('\n')
    with open(os.path.join(save_dir, name + '.net'), 'w', encoding='utf-8') as f:
        f.write(gen.render_net(spec, '# difftest regression %s (found as case %s, mode %s)\n# %s'
                               % (name, case_id, mode, detail.replace('\n', ' ')[:300])))
    return path


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cases', type=int, default=100)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--netc', default=os.path.join(ROOT, 'build', 'netc'))
    ap.add_argument('--runtime', default=os.path.join(ROOT, 'build', 'libnetcrt.a'))
    ap.add_argument('--work', default=os.path.join(ROOT, 'build', 'difftest'))
    ap.add_argument('--cc', default=os.environ.get('CC', 'cc'))
    ap.add_argument('--cflags', default='',
                    help='extra flags for generated C linked with --runtime (e.g. sanitizers it was built with)')
    ap.add_argument('--replay', action='store_true', help='re-check tests/diff/regressions/ only')
    ap.add_argument('--case', action='append', default=[], metavar='S:I',
                    help='run only case S:I (repeatable); keeps its work directory')
    ap.add_argument('--mode', choices=['plain', 'asan', 'omp', 'embed', 'portable', 'avx2'],
                    help='with --case: build this way instead of the index\'s share')
    ap.add_argument('--no-shrink', action='store_true')
    ap.add_argument('--save-dir', default=REGRESSIONS,
                    help='where shrunk failures are saved (default tests/diff/regressions)')
    ap.add_argument('--shrink-seconds', type=int, default=240, help='budget per failure')
    ap.add_argument('--shrink-max', type=int, default=2,
                    help='failures shrunk per distinct failure signature')
    ap.add_argument('--avoid-known', action='store_true',
                    help='do not generate the known bugs being fixed on main (names, linear+bn)')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()
    for p in ('netc', 'runtime', 'work', 'save_dir'):
        setattr(a, p, os.path.abspath(getattr(a, p)))
    return a


def main():
    args = parse_args()
    for path, what in ((args.netc, 'netc'), (args.runtime, 'the runtime library')):
        if not os.path.exists(path):
            sys.exit('difftest: %s is missing (%s); run make first' % (what, path))
    if shutil.which(args.cc) is None:
        sys.exit('difftest: the C compiler %s is missing' % args.cc)
    missing = gen.registry_ops() - gen.GENERATED_OPS
    if missing:
        sys.exit('difftest: the generator does not draw %s: add it to tests/diff/gen.py '
                 '(docs/adding-an-op.md)' % ', '.join(sorted(missing)))
    os.makedirs(args.work, exist_ok=True)
    tools = {'netc': args.netc, 'cc': args.cc, 'runtime': runtimes(args), 'cflags': args.cflags.split()}
    items = []
    if args.replay:
        for path in regression_files():
            with open(path) as f:
                rec = json.load(f)
            name = os.path.basename(path)[:-5]
            items.append((name, rec['spec'], rec['wseed'], rec['mode'],
                          os.path.join(args.work, 'replay-' + name)))
    elif args.case:
        for c in args.case:
            s, i = (int(v) for v in c.split(':'))
            items.append(('%d:%d' % (s, i), gen.generate(s, i, args.avoid_known), case_seed(s, i),
                          args.mode or mode_of(i), os.path.join(args.work, 'case-%d-%d' % (s, i))))
    else:
        for i in range(args.cases):
            items.append(('%d:%d' % (args.seed, i), gen.generate(args.seed, i, args.avoid_known),
                          case_seed(args.seed, i), mode_of(i),
                          os.path.join(args.work, 'case-%d-%d' % (args.seed, i))))
    t0 = time.time()
    failures = []
    passed = 0
    with concurrent.futures.ProcessPoolExecutor(args.jobs, initializer=worker_init,
                                                initargs=(tools,)) as pool:
        specs = {it[0]: it for it in items}
        kernels = {}
        for res in pool.map(task, [it + (bool(args.case),) for it in items]):
            for kname in res[3]:
                kernels[kname] = kernels.get(kname, 0) + 1
            passed, failures = tally(res[:3], specs[res[0]], passed, failures, args)
        if args.verbose:
            print('kernels (cases using each): ' + ', '.join('%s %d' % kv for kv in sorted(kernels.items())))
        if failures and not args.replay and not args.no_shrink:
            shrink_failures(pool, failures, args)
    if args.verbose:
        print('difftest: %.1f s' % (time.time() - t0))
    print('%d passed, %d failed' % (passed, len(failures)))
    sys.exit(1 if failures else 0)


def tally(res, item, passed, failures, args):
    cid, fail, secs = res
    if fail is None:
        if args.verbose:
            print('[PASS] %s (%s, %.1f s)' % (cid, item[3], secs))
        return passed + 1, failures
    sig, detail = fail
    print('[FAIL] %s (%s) %s: %s' % (cid, item[3], '/'.join(sig), detail))
    sys.stdout.flush()
    return passed, failures + [(item, sig, detail)]


def shrink_failures(pool, failures, args):
    """Shrinks up to --shrink-max failures per signature and saves them. A failure whose
    signature a saved regression already has is not shrunk again (except numeric
    mismatches, which the signature alone does not tell apart)."""
    known = saved(args.save_dir)[1]
    per_sig = {}
    jobs = []
    for (cid, spec, wseed, mode, work), sig, detail in failures:
        if sig in known and sig != ('numeric',):
            print('[KNOWN] %s: fails like %s' % (cid, os.path.relpath(known[sig], ROOT)))
            continue
        if per_sig.get(sig, 0) >= args.shrink_max:
            continue
        per_sig[sig] = per_sig.get(sig, 0) + 1
        jobs.append((cid, spec, wseed, mode, sig, work + '-shrink', args.shrink_seconds))
    modes = {j[0]: j[3] for j in jobs}
    seeds = {j[0]: j[2] for j in jobs}
    for cid, small, tries, fail in pool.map(shrink_task, jobs):
        if fail is None:
            print('[SHRINK] %s: the shrunk case passes (flaky?); not saved' % cid)
            continue
        path = save_regression(args.save_dir, cid, small, seeds[cid], modes[cid], fail[0], fail[1])
        print('[SHRINK] %s: %d layers after %d tries: %s' % (
            cid, len(small['layers']), tries,
            os.path.relpath(path, ROOT) if path else 'same failure already saved'))


if __name__ == '__main__':
    main()
