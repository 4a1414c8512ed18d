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
      one (-march=haswell). The others use the given runtime (make's: -march=native);
  (d) the int8 leg (--int8-every): the float runner calibrates on the case's input and 3
      randn samples, `netc --quantize int8` compiles the net in the same build flavour, and
      its outputs must be finite and |int8 - float|_2 <= 0.10 |float|_2 + sqrt(n) step,
      step the coarsest uint8 step on the output's paths (README).

A failing case is shrunk (tests/diff/shrink.py) while it keeps failing the same way and
saved under tests/diff/regressions/ (NAME.json with the spec, NAME.net to read). --replay
re-checks every saved regression.

Usage:
  difftest.py [--cases N] [--seed S] [--jobs J] [--netc build/netc]
              [--runtime build/libnetcrt.a] [--work build/difftest] [--no-shrink]
              [--avoid-known] [--replay] [--case S:I ...] [--int8-every K]
              [--int8-stats FILE] [-v]
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


def check_case(spec, wseed, mode, work, tools, keep=False, int8=False):
    """Runs every check of one case in directory work (int8: the int8 leg too). Returns
    None or a Fail."""
    try:
        _check(spec, wseed, mode, work, tools, int8)
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


def _check(spec, wseed, mode, work, tools, int8=False):
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
    embed_opts = []
    if mode == 'embed':
        # Hex float literals compile slowly (a minute for a few million, as
        # netc --help warns): only small models take them, so the run's
        # time goes to cases rather than to the C compiler.
        hex_ok = rep['totals']['params'] + rep['totals']['buffers'] <= HEX_MAX_FLOATS
        embed_opts = ['--weights', wfile] + (['--weights-hex'] if wseed % 2 and hex_ok else [])
        cmd += embed_opts
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
    run_opts = []
    if mode != 'embed':
        run_opts += ['--weights', wfile]
    if mode == 'omp':
        run_opts += ['--threads', '2']
    cmd = [exe] + run_opts
    for j, x in enumerate(xs):
        path = os.path.join(work, 'in%d.f32' % j)
        with open(path, 'wb') as f:
            f.write(x.contiguous().numpy().tobytes())
        cmd += ['--input', path]
    for j in range(len(outs)):
        cmd += ['--output', os.path.join(work, 'out%d.f32' % j)]
    env = dict(os.environ, ASAN_OPTIONS='detect_leaks=1:abort_on_error=0',
               UBSAN_OPTIONS='print_stacktrace=1', OMP_NUM_THREADS='2')
    run(cmd, 'the generated runner', ('run',), timeout=120, env=env, strip=work)

    try:
        ref64 = gen.build_torch(spec)
        ref64.load_state_dict(model.state_dict())
        ref64 = ref64.double().eval()
        with torch.no_grad():
            refs = ref64(*[x.double() for x in xs])
    except (RuntimeError, ValueError) as e:
        raise Fail(('torch', 'error64'), 'PyTorch rejected the float64 reference (a generator bug?): %s' % e)
    floats = []
    for j, (t32, ref) in enumerate(zip(outs, refs)):
        with open(os.path.join(work, 'out%d.f32' % j), 'rb') as f:
            got = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
        why = compare(got, ref, t32)
        if why:
            raise Fail(('numeric',), 'output %d %s: %s' % (j, list(ref.shape), why))
        floats.append(got)
    if int8:
        check_int8(spec, rep, mode, work, tools, g, xs, floats, exe, run_opts, env, cflags, wfile, embed_opts)


# ---------------------------------------------------------------------------- the int8 leg

# Calibration samples besides the case's own input (randn, from the case's generator).
INT8_CALIB_EXTRA = 3
# The bound on an int8 output's error against the float netc output: INT8_BOUND relative
# (L2) plus one step of the coarsest scale on its paths per element. Measured over 600
# cases: relative error median 0.8%, 99th percentile 5.7%; without an average (pools,
# mean) on the path at most 5.7% but for one cancelling linear; beyond the step term at
# most 3.0% (README, "The int8 leg").
INT8_BOUND = 0.10
# Ops whose outputs (and everything downstream) would only be checked to be finite: none
# needs it with the step term.
INT8_FINITE_ONLY = set()


def rel_errors(q, f):
    """(L2 relative error, max-abs relative error) of q against f (float64 tensors)."""
    d = (q - f)
    fn = float(f.norm())
    fm = float(f.abs().max()) if f.numel() else 0.0
    l2 = float(d.norm()) / fn if fn > 0 else (0.0 if float(d.norm()) == 0 else float('inf'))
    mx = float(d.abs().max()) / fm if fm > 0 else (0.0 if float(d.abs().max() if d.numel() else 0) == 0
                                                    else float('inf'))
    return l2, mx


def output_paths(spec):
    """Per output of spec, (the set of ops, the set of node indices) on its paths from the
    inputs. Nodes are numbered as in the ranges file: the inputs, then the layers."""
    k = len(spec['inputs'])
    ops = [set() for _ in range(k)]
    nodes = [{i} for i in range(k)]
    for i, l in enumerate(spec['layers']):
        ops.append(set().union({l['op']}, *(ops[s] for s in l['src'])))
        nodes.append(set().union({k + i}, *(nodes[s] for s in l['src'])))
    return [(ops[o], nodes[o]) for o in spec['outputs']]


def step_of(entry):
    """The uint8 step a calibrated range [min, max] gives (quantization.md: widened to 0)."""
    return (max(entry['max'], 0.0) - min(entry['min'], 0.0)) / 255


# docs/quantization.md, "Where each tensor's scale comes from": ops whose output keeps its
# input's scale, and ops with a fixed output scale. Every other op has its own range. (Only
# the slack of the bound depends on this copy of the rules: the larger of the op's own step
# and its input's is taken for the shared ones.)
SHARED_SCALE_OPS = {'maxpool2d', 'maxpool1d', 'avgpool2d', 'avgpool1d', 'adaptive_avgpool2d',
                    'adaptive_avgpool1d', 'global_avgpool2d', 'flatten', 'reshape', 'view', 'squeeze',
                    'unsqueeze', 'dropout', 'identity', 'stochastic_depth', 'narrow', 'slice', 'permute',
                    'transpose', 'mean', 'upsample', 'interpolate', 'roll', 'expand', 'relu', 'relu6'}
FIXED_STEP = {'sigmoid': 1 / 256, 'hardsigmoid': 1 / 256, 'softmax': 1 / 256, 'tanh': 2 / 256}


def output_steps(spec, layers):
    """Per node, the step of its uint8 tensor, from the ranges file's entries (layers)."""
    k = len(spec['inputs'])
    steps = [step_of(layers[i]) for i in range(k)]
    for i, l in enumerate(spec['layers']):
        own = step_of(layers[k + i])
        if l['op'] in FIXED_STEP:
            own = FIXED_STEP[l['op']]
        elif l['op'] in SHARED_SCALE_OPS and l['src']:
            own = max(own, steps[l['src'][0]])
        steps.append(own)
    return steps


def check_int8(spec, rep, mode, work, tools, g, xs, floats, exe, run_opts, env, cflags, wfile, embed_opts):
    """The int8 leg (after the float check passed): calibrate the float runner on the case's
    input and INT8_CALIB_EXTRA randn samples, compile the net with --quantize int8 in the
    same build flavour, run it on the case's input; its outputs must be finite and within
    INT8_BOUND (relative, L2) plus one coarsest step per element of the float netc outputs."""
    import torch
    stats = {'case': CURRENT[0], 'mode': mode, 'ops': sorted({l['op'] for l in spec['layers']})}
    if not all(bool(torch.isfinite(f).all()) for f in floats):
        log_int8(tools, dict(stats, skipped='float output not finite'))
        return          # calibration would (rightly) refuse a NaN or an infinity
    calib = os.path.join(work, 'calib.f32')
    with open(calib, 'wb') as f:
        f.write(b''.join(x.contiguous().numpy().tobytes() for x in xs))
        for _ in range(INT8_CALIB_EXTRA):
            for i in spec['inputs']:
                f.write(torch.randn(*i['shape'], generator=g).contiguous().numpy().tobytes())
    ranges = os.path.join(work, 'ranges.json')
    try:
        run([exe, '--calibrate', calib, '--ranges', ranges] + run_opts, 'the float runner\'s --calibrate',
            ('int8-calibrate',), env=env, strip=work)
    except Fail as e:
        if 'NaN or an infinity' in e.detail:
            log_int8(tools, dict(stats, skipped='calibration saw a NaN or an infinity'))
            return      # a random sample overflowed in float: no ranges to quantize with
        raise
    qsrc = os.path.join(work, 'q.c')
    run([tools['netc'], '--quantize', 'int8', '--ranges', ranges, os.path.join(work, 'case.net'),
         '-o', qsrc, '--main', '-w'] + embed_opts, 'netc --quantize int8', ('int8-netc',), strip=work)
    qexe = os.path.join(work, 'q')
    srcs = [qsrc] + ([os.path.join(work, 'q_weights.c')] if mode == 'embed' else [])
    run([tools['cc']] + cflags + srcs + [tools['runtime'][mode], '-lm', '-o', qexe],
        'compiling the int8 C', ('int8-cc',), strip=work)
    cmd = [qexe] + run_opts
    for j in range(len(xs)):
        cmd += ['--input', os.path.join(work, 'in%d.f32' % j)]
    for j in range(len(floats)):
        cmd += ['--output', os.path.join(work, 'qout%d.f32' % j)]
    run(cmd, 'the int8 runner', ('int8-run',), timeout=120, env=env, strip=work)
    outs = []
    for j, fl in enumerate(floats):
        with open(os.path.join(work, 'qout%d.f32' % j), 'rb') as f:
            q = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).double()
        if q.numel() != fl.numel():
            raise Fail(('int8-numeric', 'count'), 'int8 output %d: %d values, the float build %d'
                       % (j, q.numel(), fl.numel()))
        if not bool(torch.isfinite(q).all()):
            raise Fail(('int8-numeric', 'finite'), 'int8 output %d has a NaN or an infinity at element %d'
                       % (j, int((~torch.isfinite(q)).nonzero()[0])))
        outs.append((q, fl.double()))
    with open(ranges, encoding='utf-8') as f:
        layers = json.load(f)['layers']
    paths = output_paths(spec)
    steps = output_steps(spec, layers)
    if len(layers) != len(spec['inputs']) + len(spec['layers']):
        raise Fail(('int8-calibrate', 'layers'), 'ranges.json has %d layers, the case %d nodes'
                   % (len(layers), len(spec['inputs']) + len(spec['layers'])))
    stats['outputs'], stats['output_ops'] = [], []
    fails = []
    for j, ((q, fl), (ops, nodes)) in enumerate(zip(outs, paths)):
        l2, mx = rel_errors(q, fl)
        # One step of the coarsest scale on the output's paths, per element: what
        # rounding alone can leave in an output that is small against the tensors it
        # comes from (an average keeps its input's scale, so a pool of zero-centred
        # values may be a fraction of a step; a linear's output may cancel its inputs).
        floor = (q.numel() ** 0.5) * max(steps[n] for n in nodes)
        err, norm = float((q - fl).norm()), float(fl.norm())
        stats['outputs'].append([l2, mx, rep['outputs'][j]['shape'], floor / norm if norm else None])
        stats['output_ops'].append(sorted(ops))
        if INT8_FINITE_ONLY & ops:
            continue
        if not err <= INT8_BOUND * norm + floor:
            fails.append('int8 output %d %s: |int8 - float|_2 = %.3g > %g |float|_2 + sqrt(n) step = %.3g '
                         '(relative %.3g, max-abs relative %.3g)'
                         % (j, rep['outputs'][j]['shape'], err, INT8_BOUND, INT8_BOUND * norm + floor, l2, mx))
    log_int8(tools, stats)
    if fails:
        raise Fail(('int8-numeric',), fails[0])


def log_int8(tools, stats):
    if tools.get('int8_stats'):
        with open(tools['int8_stats'], 'a') as f:
            f.write(json.dumps(stats) + '\n')


# ---------------------------------------------------------------------------- the pool

TOOLS = {}
CURRENT = ['']           # the case a worker is checking (for --int8-stats)
KERNELS = set()          # op:kernel pairs the reports named (coverage, for -v)


def worker_init(tools):
    import warnings
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings('ignore')      # PyTorch's notes on padding="same" and the like
    TOOLS.update(tools)


def task(item):
    """One case in a worker: (id, spec, wseed, mode) -> (id, None | (sig, detail), seconds)."""
    cid, spec, wseed, mode, work, int8, keep = item
    t0 = time.time()
    KERNELS.clear()
    CURRENT[0] = cid
    f = check_case(spec, wseed, mode, work, TOOLS, keep, int8)
    return cid, None if f is None else (f.sig, f.detail), time.time() - t0, sorted(KERNELS)


def shrink_task(item):
    import shrink
    cid, spec, wseed, mode, int8, sig, work, budget = item
    CURRENT[0] = cid + ' (shrinking)'

    def still_fails(cand):
        f = check_case(cand, wseed, mode, work, TOOLS, int8=int8)
        return f is not None and f.sig == tuple(sig)

    small, tries = shrink.shrink(spec, still_fails, budget)
    f = check_case(small, wseed, mode, work, TOOLS, int8=int8)
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


def save_regression(save_dir, case_id, spec, wseed, mode, int8, sig, detail):
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
    rec = {'found': case_id, 'mode': mode, 'wseed': wseed, 'int8': int8, 'key': key,
           'failure': {'sig': list(sig), 'detail': detail}, 'spec': spec}
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(rec, f, indent=1)
        f.write('\n')
    with open(os.path.join(save_dir, name + '.net'), 'w', encoding='utf-8') as f:
        f.write(gen.render_net(spec, '# difftest regression %s (found as case %s, mode %s%s)\n# %s'
                               % (name, case_id, mode, ', int8 leg' if int8 else '',
                                  detail.replace('\n', ' ')[:300])))
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
    ap.add_argument('--int8-every', type=int, default=1, metavar='K',
                    help='the int8 leg on the cases whose index // 8 is a multiple of K (all 8 build '
                         'modes; default 1: every case; 0: none). --case runs it always, unless 0')
    ap.add_argument('--int8-stats', metavar='FILE',
                    help='append each int8 leg\'s relative errors to FILE (JSON lines), for measuring')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()
    if a.int8_stats:
        a.int8_stats = os.path.abspath(a.int8_stats)
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
    tools = {'netc': args.netc, 'cc': args.cc, 'runtime': runtimes(args), 'cflags': args.cflags.split(),
             'int8_stats': args.int8_stats}
    k = args.int8_every

    def int8_of(index):
        return k > 0 and (index // 8) % k == 0
    items = []
    if args.replay:
        for path in regression_files():
            with open(path) as f:
                rec = json.load(f)
            name = os.path.basename(path)[:-5]
            items.append((name, rec['spec'], rec['wseed'], rec['mode'],
                          os.path.join(args.work, 'replay-' + name), rec.get('int8', False)))
    elif args.case:
        for c in args.case:
            s, i = (int(v) for v in c.split(':'))
            items.append(('%d:%d' % (s, i), gen.generate(s, i, args.avoid_known), case_seed(s, i),
                          args.mode or mode_of(i), os.path.join(args.work, 'case-%d-%d' % (s, i)), k > 0))
    else:
        for i in range(args.cases):
            items.append(('%d:%d' % (args.seed, i), gen.generate(args.seed, i, args.avoid_known),
                          case_seed(args.seed, i), mode_of(i),
                          os.path.join(args.work, 'case-%d-%d' % (args.seed, i)), int8_of(i)))
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
            print('[PASS] %s (%s%s, %.1f s)' % (cid, item[3], ', int8' if item[5] else '', secs))
        return passed + 1, failures
    sig, detail = fail
    print('[FAIL] %s (%s%s) %s: %s' % (cid, item[3], ', int8' if item[5] else '', '/'.join(sig), detail))
    sys.stdout.flush()
    return passed, failures + [(item, sig, detail)]


def shrink_failures(pool, failures, args):
    """Shrinks up to --shrink-max failures per signature and saves them. A failure whose
    signature a saved regression already has is not shrunk again (except numeric
    mismatches, which the signature alone does not tell apart)."""
    known = saved(args.save_dir)[1]
    per_sig = {}
    jobs = []
    for (cid, spec, wseed, mode, work, int8), sig, detail in failures:
        if sig in known and sig not in (('numeric',), ('int8-numeric',)):
            print('[KNOWN] %s: fails like %s' % (cid, os.path.relpath(known[sig], ROOT)))
            continue
        if per_sig.get(sig, 0) >= args.shrink_max:
            continue
        per_sig[sig] = per_sig.get(sig, 0) + 1
        jobs.append((cid, spec, wseed, mode, int8, sig, work + '-shrink', args.shrink_seconds))
    modes = {j[0]: j[3] for j in jobs}
    seeds = {j[0]: j[2] for j in jobs}
    int8s = {j[0]: j[4] for j in jobs}
    for cid, small, tries, fail in pool.map(shrink_task, jobs):
        if fail is None:
            print('[SHRINK] %s: the shrunk case passes (flaky?); not saved' % cid)
            continue
        path = save_regression(args.save_dir, cid, small, seeds[cid], modes[cid], int8s[cid], fail[0], fail[1])
        print('[SHRINK] %s: %d layers after %d tries: %s' % (
            cid, len(small['layers']), tries,
            os.path.relpath(path, ROOT) if path else 'same failure already saved'))


if __name__ == '__main__':
    main()
