#!/usr/bin/python3
"""bench.py -- netc's generated code against PyTorch and OpenBLAS (a benchmark, not a test).

    /usr/bin/python3 tests/bench/bench.py [--netc build/netc] [--models lenet,vgg11] [--quick]

For each model (lenet, alexnet, vgg11, resnet50, mobilenet_v2, mobilenet_v3_large, efficientnet_b0,
shufflenet_v2_x1_0, convnext_tiny, vit_b_16, swin_t):
  * netc writes the runner (`netc models/X.net -o DIR/X.c --main`), which is compiled twice
    against the runtime sources: single-threaded without OpenMP (the 1-thread rows) and with
    -fopenmp (the 2-thread rows); `X --bench N --threads T` prints `median_ms=` last;
  * PyTorch eager: model.eval(), torch.inference_mode(), torch.set_num_threads(T);
  * PyTorch's best CPU mode: torch.jit.optimize_for_inference(torch.jit.freeze(
    torch.jit.script(model))) (torch.jit.trace if scripting fails), under torch.no_grad().
Each is warmed up, then timed in several interleaved rounds (netc, eager and best take turns,
the order rotating each round); a round's figure is the median of its N calls and the table
shows the median over rounds. N is chosen per model and per system so that one batch takes
about --batch-s seconds. "spread" is the largest (max - min) / median of the round figures
among the three systems. The machine may be shared: a batch during which other processes
used more than 10% of a core (from /proc/stat) is repeated, after waiting for a quiet moment,
up to 3 times while the spare time (--spare-min) lasts; "disturbed" counts the batches that
were kept anyway. Rows with large spread or many disturbed batches say more about the
neighbours than about netc; multi-thread rows suffer most.

int8 rows (issue #14; --int8-models, default resnet50, mobilenet_v2, vgg11; empty to skip): the
same random float weights (tests/quant/torch_int8.py: random BatchNorm statistics) and the same
calibration file (4 random normal inputs) give
  * netc int8: the float runner records the ranges (`X --weights W --calibrate C --ranges R`),
    `netc --quantize int8 --ranges R models/X.net -o DIR/X_int8.c --main`, compiled like the float
    runner (serial and -fopenmp), timed with `--weights W --bench N --threads T`;
  * PyTorch int8: FX graph mode (prepare_fx, the calibration samples, convert_fx) with netc's
    observers on the onednn engine, then torch.jit.freeze(torch.jit.script(...)) (trace if
    scripting fails), under torch.no_grad();
  * netc float: the float runner with the same weights;
interleaved as above; the table shows netc_int8 / torch_int8 and netc_int8 / netc_float.

Then the runtime's GEMM (tests/bench/gemm_bench.c, netc_gemm_f32, C = A B, square) at 1024^3
and 2048^3 against OpenBLAS's cblas_sgemm (Debian libopenblas-dev) at 1 and 2 threads, also
interleaved. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed from the environment of the
OpenBLAS command only (they can force a slow kernel); the kernel OpenBLAS picked
(openblas_get_corename) is printed. "% sgemm" in the model rows is netc's GFLOP/s
(2 x MACs of `netc --report=json` / time) over the better of OpenBLAS's 1024^3 and 2048^3
GFLOP/s at the same thread count.

Needs only Debian packages: python3-torch, python3-torchvision, gcc (with libgomp),
libopenblas-dev. tests/bench/run.sh checks for them.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = ['lenet', 'alexnet', 'vgg11', 'resnet50', 'mobilenet_v2', 'mobilenet_v3_large', 'efficientnet_b0',
          'shufflenet_v2_x1_0', 'convnext_tiny', 'vit_b_16', 'swin_t']
GEMM_SIZES = [1024, 2048]
OPENBLAS_ENV_DROP = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')


def log(msg):
    print('bench: ' + msg, file=sys.stderr, flush=True)


def die(msg):
    print('bench.py: ' + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd, env=None, timeout=1800):
    """Runs cmd; returns stdout. Raises RuntimeError with stderr on failure."""
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError('%s: exit %d\n%s' % (' '.join(shlex.quote(c) for c in cmd),
                                                p.returncode, (p.stderr or p.stdout).strip()[-2000:]))
    return p.stdout


def keyvals(text):
    out = {}
    for line in text.splitlines():
        if '=' in line:
            k, v = line.split('=', 1)
            out[k.strip()] = v.strip()
    return out


def median_ms_of(text):
    last = text.strip().splitlines()[-1] if text.strip() else ''
    if not last.startswith('median_ms='):
        raise RuntimeError('runner output does not end with median_ms=: %r' % text[-200:])
    return float(last.split('=', 1)[1])


# --- the machine ------------------------------------------------------------------------

def cpu_model():
    info, n = {}, 0
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                k, _, v = line.partition(':')
                k = k.strip()
                if k == 'processor':
                    n += 1
                elif k in ('model name', 'cpu family', 'model', 'stepping') and k not in info:
                    info[k] = v.strip()
    except OSError:
        pass
    fam = ', '.join('%s %s' % (k.replace('cpu ', ''), info[k]) for k in ('cpu family', 'model', 'stepping')
                    if k in info)
    return '%s (%s; %d logical CPUs)' % (info.get('model name', platform.processor() or '?'), fam,
                                         n or os.cpu_count())


def cpu_isa():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    fl = set(line.split(':', 1)[1].split())
                    return ' '.join(x for x in ('avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl')
                                    if x in fl) or 'no AVX2'
    except OSError:
        pass
    return '?'


def loadavg():
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return '?'


def torch_blas_info():
    """Which BLAS PyTorch's linear layers go to, and OpenBLAS's kernel if it is OpenBLAS."""
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({l.split()[-1] for l in f if 'blas' in l.split()[-1]})
    except OSError:
        return '?'
    for lib in libs:
        if 'openblas' in lib:
            try:
                h = ctypes.CDLL(lib)
                h.openblas_get_corename.restype = ctypes.c_char_p
                return 'OpenBLAS %s (core %s)' % (lib, h.openblas_get_corename().decode())
            except (OSError, AttributeError):
                pass
    return ', '.join(os.path.realpath(l) for l in libs) or 'none loaded'


# --- building ---------------------------------------------------------------------------

class Builder:
    def __init__(self, netc, bdir, cc):
        self.netc, self.bdir, self.cc = netc, bdir, cc
        self.base = [cc, '-std=c99', '-O2', '-march=native', '-Iruntime']
        self.rt_objs = {}

    def runtime(self):
        """Compiles the runtime twice (serial, -fopenmp) into objects, in parallel: its
        sources as runtime/runtime.mk lists them (RUNTIME_SRCS), the one list."""
        with open(os.path.join(ROOT, 'runtime', 'runtime.mk'), encoding='utf-8') as f:
            m = re.search(r'^RUNTIME_SRCS\s*:?=(.*)$', f.read().replace('\\\n', ' '), re.M)
        if not m:
            sys.exit('bench: runtime/runtime.mk has no RUNTIME_SRCS list')
        srcs = [os.path.basename(w) for w in m.group(1).split() if w.endswith('.c')]
        jobs = []
        for variant, extra in (('serial', []), ('omp', ['-fopenmp'])):
            odir = os.path.join(self.bdir, 'rt-' + variant)
            os.makedirs(odir, exist_ok=True)
            objs = []
            for s in srcs:
                o = os.path.join(odir, s[:-2] + '.o')
                objs.append(o)
                jobs.append(self.base + extra + ['-c', os.path.join('runtime', s), '-o', o])
            self.rt_objs[variant] = objs
        self._parallel(jobs)

    def _parallel(self, cmds):
        width = max(1, os.cpu_count() or 1)
        errors = []
        for i in range(0, len(cmds), width):
            procs = [(c, subprocess.Popen(c, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          universal_newlines=True)) for c in cmds[i:i + width]]
            for c, p in procs:
                out = p.communicate()[0]
                if p.returncode != 0:
                    errors.append('%s\n%s' % (' '.join(c), out.strip()[-2000:]))
        if errors:
            raise RuntimeError('\n'.join(errors))

    def runners(self, model):
        """netc models/X.net -o DIR/X.c --main; returns {'serial': exe, 'omp': exe}."""
        mdir = os.path.join(self.bdir, model)
        os.makedirs(mdir, exist_ok=True)
        src = os.path.join(mdir, model + '.c')
        run([self.netc, os.path.join('models', model + '.net'), '-o', src, '--main'])
        exes = {'serial': os.path.join(mdir, model), 'omp': os.path.join(mdir, model + '-omp')}
        self._parallel([
            self.base + ['-I' + mdir, src] + self.rt_objs['serial'] + ['-lm', '-o', exes['serial']],
            self.base + ['-fopenmp', '-I' + mdir, src] + self.rt_objs['omp'] + ['-lm', '-o', exes['omp']],
        ])
        return exes

    def int8_runners(self, model, weights, calib):
        """The float runner calibrates (--calibrate), netc --quantize int8 writes the int8 runner;
        returns {'serial': exe, 'omp': exe} of the int8 runner."""
        mdir = os.path.join(self.bdir, model)
        ranges = os.path.join(mdir, model + '.ranges.json')
        run([os.path.join(mdir, model), '--weights', weights, '--calibrate', calib, '--ranges', ranges])
        src = os.path.join(mdir, model + '_int8.c')
        run([self.netc, '--quantize', 'int8', '--ranges', ranges, os.path.join('models', model + '.net'),
             '-o', src, '--main'])
        exes = {'serial': os.path.join(mdir, model + '_int8'), 'omp': os.path.join(mdir, model + '_int8-omp')}
        self._parallel([
            self.base + ['-I' + mdir, src] + self.rt_objs['serial'] + ['-lm', '-o', exes['serial']],
            self.base + ['-fopenmp', '-I' + mdir, src] + self.rt_objs['omp'] + ['-lm', '-o', exes['omp']],
        ])
        return exes

    def gemm(self):
        src = os.path.join('tests', 'bench', 'gemm_bench.c')
        exes = {'serial': os.path.join(self.bdir, 'gemm_netc'),
                'omp': os.path.join(self.bdir, 'gemm_netc_omp'),
                'openblas': os.path.join(self.bdir, 'gemm_openblas')}
        self._parallel([
            self.base + [src] + self.rt_objs['serial'] + ['-lm', '-o', exes['serial']],
            self.base + ['-fopenmp', src] + self.rt_objs['omp'] + ['-lm', '-o', exes['omp']],
            self.base + ['-DUSE_OPENBLAS', src, '-lopenblas', '-lm', '-o', exes['openblas']],
        ])
        return exes


def source_state():
    """git HEAD, whether runtime/ or compiler/ differ from it, and a hash of runtime/ as built."""
    import hashlib
    h = hashlib.sha1()
    rdir = os.path.join(ROOT, 'runtime')
    for f in sorted(os.listdir(rdir)):
        if f.endswith(('.c', '.h')):
            with open(os.path.join(rdir, f), 'rb') as fh:
                h.update(f.encode() + b'\0' + fh.read())
    try:
        head = run(['git', 'rev-parse', '--short', 'HEAD']).strip()
        dirty = [d for d in ('runtime', 'compiler')
                 if run(['git', 'status', '--porcelain', '--', d]).strip()]
        git = 'git %s%s' % (head, ' + uncommitted changes in ' + ', '.join(dirty) if dirty else '')
    except (RuntimeError, OSError):
        git = 'not a git checkout'
    return '%s; runtime/ sources sha1 %s' % (git, h.hexdigest()[:12])


def macs_of(netc, model):
    rep = json.loads(run([netc, '--report=json', os.path.join('models', model + '.net')]))
    return int(rep['totals']['macs'])


# --- other processes --------------------------------------------------------------------

class Guard:
    """Notices CPU time used by other processes while a batch runs (busy jiffies in /proc/stat
    minus this process's and its waited-for children's CPU time). A disturbed batch is
    repeated after waiting for a quiet moment, while the spare time lasts (the discarded
    batches and the waits are charged to it); the table counts the disturbed batches that had
    to be kept."""

    def __init__(self, spare_s, tolerance=0.10, retries=3, max_wait_s=20.0):
        self.spare, self.tol, self.retries, self.max_wait_s = spare_s, tolerance, retries, max_wait_s
        self.hz = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100
        self.ok = self._busy() is not None
        self.retried = 0

    @staticmethod
    def _busy():
        try:
            with open('/proc/stat') as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        return sum(v[:8]) - v[3] - v[4]   # user nice system irq softirq steal: all but idle, iowait

    def _snap(self):
        t = os.times()
        return time.monotonic(), self._busy(), t[0] + t[1] + t[2] + t[3]

    def _other(self, a, b):
        """Seconds of CPU used by others between snapshots a and b, and the wall time."""
        return (b[1] - a[1]) / self.hz - (b[2] - a[2]), b[0] - a[0]

    def wait_quiet(self):
        """Waits (at most max_wait_s and the spare time) until others use < 5% of a core."""
        t0 = time.monotonic()
        end = t0 + min(self.max_wait_s, self.spare)
        while time.monotonic() < end:
            a = self._snap()
            time.sleep(0.5)
            other, wall = self._other(a, self._snap())
            if other < 0.05 * wall:
                break
        self.spare -= time.monotonic() - t0

    def measure(self, fn):
        """fn() -> value; returns (value, disturbed)."""
        for attempt in range(self.retries + 1):
            a = self._snap()
            v = fn()
            if not self.ok:
                return v, False
            b = self._snap()
            other, wall = self._other(a, b)
            bad = other > max(self.tol * wall, 3.0 / self.hz)
            if not bad or attempt == self.retries or self.spare <= wall:
                return v, bad
            self.spare -= wall
            self.retried += 1
            self.wait_quiet()
        return v, bad


# --- timing -----------------------------------------------------------------------------

def time_calls(fn, n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def warm(fn, min_calls, min_s):
    t_end = time.perf_counter() + min_s
    k = 0
    while k < min_calls or time.perf_counter() < t_end:
        fn()
        k += 1


def reps_for(ms, batch_s, lo=3, hi=2000):
    return int(max(lo, min(hi, round(batch_s * 1e3 / max(ms, 1e-3)))))


def spread(xs):
    m = statistics.median(xs)
    return (max(xs) - min(xs)) / m if m > 0 and len(xs) > 1 else 0.0


def build_torch(torch, model_name, torch_models):
    model, shape = torch_models.MODELS[model_name]()
    model.eval()
    torch.manual_seed(0)
    x = torch.rand(*shape) * 2 - 1
    with torch.no_grad():
        try:
            scripted, how = torch.jit.script(model), 'script'
        except Exception as e:  # noqa: BLE001 -- any scripting failure: fall back to tracing
            log('%s: torch.jit.script failed (%s), tracing instead' % (model_name, str(e).splitlines()[0]))
            scripted, how = torch.jit.trace(model, x), 'trace'
        best = torch.jit.optimize_for_inference(torch.jit.freeze(scripted.eval()))

    def eager():
        with torch.inference_mode():
            return model(x)

    def opt():
        with torch.no_grad():
            return best(x)

    # best mode must compute the same function (it fuses conv+bn, converts to oneDNN layouts)
    ye, yb = eager(), opt()
    err = float((ye - yb).abs().max() / (ye.abs().max() + 1e-12))
    if err > 1e-3:
        log('%s: WARNING torch best mode differs from eager by %.2e (relative)' % (model_name, err))
    return eager, opt, how


def bench_model(name, exes, torch, torch_fns, threads_list, rounds, batch_s, guard):
    eager, opt, how = torch_fns
    rows = []
    for T in threads_list:
        torch.set_num_threads(T)
        exe = exes['serial'] if T == 1 else exes['omp']

        def netc_batch(n):
            return median_ms_of(run([exe, '--seed', '1', '--bench', str(n), '--threads', str(T)]))

        # warm up and calibrate N per system (one batch ~ batch_s seconds)
        warm(eager, 3, 0.2)
        warm(opt, 5, 0.3)
        n_e = reps_for(time_calls(eager, 3), batch_s)
        n_b = reps_for(time_calls(opt, 3), batch_s)
        n_n = reps_for(netc_batch(3), batch_s)
        systems = [('netc', lambda: netc_batch(n_n)),
                   ('eager', lambda: time_calls(eager, n_e)),
                   ('best', lambda: time_calls(opt, n_b))]
        res = {k: [] for k, _ in systems}
        disturbed = 0
        for r in range(rounds):
            for k, f in systems[r % 3:] + systems[:r % 3]:
                if k == 'netc':
                    time.sleep(0.02)   # let torch's OpenMP workers stop spinning
                v, bad = guard.measure(f)
                res[k].append(v)
                disturbed += bad
        row = {k: statistics.median(v) for k, v in res.items()}
        row.update(model=name, threads=T, n={'netc': n_n, 'eager': n_e, 'best': n_b}, rounds=res,
                   spread=max(spread(v) for v in res.values()), torch_best_via=how,
                   disturbed=disturbed, batches=3 * rounds)
        log('%-13s T=%d  netc %.3f ms (N=%d)  eager %.3f ms (N=%d)  best %.3f ms (N=%d)  spread %.0f%%  '
            'disturbed %d/%d' % (name, T, row['netc'], n_n, row['eager'], n_e, row['best'], n_b,
                                 100 * row['spread'], disturbed, 3 * rounds))
        rows.append(row)
    return rows


INT8_MODELS = ['resnet50', 'mobilenet_v2', 'vgg11']
INT8_CALIB_SAMPLES = 4


def int8_inputs(model_name, bdir):
    """Random float weights (random BN statistics) and a calibration file, shared by netc and
    PyTorch; returns (weights path, calib path, calib tensor, torch_int8 module)."""
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'quant'))
    import torch_int8
    mdir = os.path.join(bdir, model_name)
    os.makedirs(mdir, exist_ok=True)
    weights = os.path.join(mdir, model_name + '.weights.safetensors')
    torch_int8.save_weights(torch_int8.random_weights(model_name, 1), weights)
    calib = torch_int8.make_samples(model_name, INT8_CALIB_SAMPLES, 'normal', 2)
    calib_path = os.path.join(mdir, model_name + '.calib.f32')
    torch_int8.write_f32(calib_path, calib)
    return weights, calib_path, calib, torch_int8


def build_torch_int8(torch, torch_int8, model_name, weights, calib):
    """PyTorch's int8 model (FX, onednn, netc's observers), jit-frozen; returns (fn, how)."""
    model, shape = torch_int8.load_float(model_name, weights)
    converted = torch_int8.convert(torch_int8.prepare(model, shape, calib))
    torch.manual_seed(0)
    x = torch.rand(*shape) * 2 - 1
    with torch.no_grad():
        try:
            scripted, how = torch.jit.script(converted), 'script'
        except Exception as e:  # noqa: BLE001 -- any scripting failure: fall back to tracing
            log('%s int8: torch.jit.script failed (%s), tracing instead' % (model_name, str(e).splitlines()[0]))
            scripted, how = torch.jit.trace(converted, x), 'trace'
        frozen = torch.jit.freeze(scripted.eval())
        ref, got = converted(x), frozen(x)
    err = float((ref - got).abs().max() / (ref.abs().max() + 1e-12))
    if err > 1e-3:
        log('%s int8: WARNING the frozen model differs from the converted one by %.2e (relative)' % (model_name, err))

    def fn():
        with torch.no_grad():
            return frozen(x)
    return fn, how


def bench_int8_model(name, exes_q, exes_f, weights, torch, tq, threads_list, rounds, batch_s, guard):
    """netc int8 (exes_q, may be None when it did not build), PyTorch int8 (tq) and netc float
    (exes_f) interleaved, as bench_model does."""
    rows = []
    for T in threads_list:
        torch.set_num_threads(T)

        def runner(exes):
            exe = exes['serial'] if T == 1 else exes['omp']
            return lambda n: median_ms_of(run([exe, '--weights', weights, '--bench', str(n), '--threads', str(T)]))

        warm(tq, 5, 0.3)
        n_t = reps_for(time_calls(tq, 3), batch_s)
        systems = [('torch_int8', lambda: time_calls(tq, n_t))]
        ns = {'torch_int8': n_t}
        for key, exes in (('netc_int8', exes_q), ('netc_float', exes_f)):
            if exes:
                f = runner(exes)
                ns[key] = reps_for(f(3), batch_s)
                systems.append((key, lambda f=f, n=ns[key]: f(n)))
        res = {k: [] for k, _ in systems}
        disturbed = 0
        k_sys = len(systems)
        for r in range(rounds):
            for k, f in systems[r % k_sys:] + systems[:r % k_sys]:
                if k != 'torch_int8':
                    time.sleep(0.02)   # let torch's OpenMP workers stop spinning
                v, bad = guard.measure(f)
                res[k].append(v)
                disturbed += bad
        row = {k: statistics.median(v) for k, v in res.items()}
        row.update(model=name, threads=T, n=ns, rounds=res, spread=max(spread(v) for v in res.values()),
                   disturbed=disturbed, batches=k_sys * rounds)
        log('%-13s T=%d  int8: netc %s ms  torch %.3f ms  netc float %s ms  spread %.0f%%  disturbed %d/%d'
            % (name, T, ms(row.get('netc_int8')), row['torch_int8'], ms(row.get('netc_float')),
               100 * row['spread'], disturbed, k_sys * rounds))
        rows.append(row)
    return rows


def bench_gemm(exes, threads_list, rounds, guard):
    ob_env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_ENV_DROP}
    rows, info = [], {}
    for size in GEMM_SIZES:
        reps = 5 if size >= 2048 else 15
        for T in threads_list:
            ob_env['OPENBLAS_NUM_THREADS'] = str(T)
            cmds = [('netc', [exes['serial'] if T == 1 else exes['omp'], str(size), str(reps), str(T)], None),
                    ('openblas', [exes['openblas'], str(size), str(reps), str(T)], ob_env)]
            res = {'netc': [], 'openblas': []}
            disturbed = 0
            for r in range(rounds):
                for k, cmd, env in cmds[r % 2:] + cmds[:r % 2]:
                    kv, bad = guard.measure(lambda: keyvals(run(cmd, env=env)))
                    disturbed += bad
                    res[k].append(float(kv['median_ms']))
                    if k == 'openblas':
                        info['core'], info['config'] = kv.get('core', '?'), kv.get('config', '?')
            row = {k: statistics.median(v) for k, v in res.items()}
            flop = 2.0 * size ** 3
            row.update(size=size, threads=T, rounds=res, spread=max(spread(v) for v in res.values()),
                       disturbed=disturbed, batches=2 * rounds,
                       netc_gflops=flop / (row['netc'] * 1e6), openblas_gflops=flop / (row['openblas'] * 1e6))
            log('gemm %d^3 T=%d  netc %.2f ms (%.1f GFLOP/s)  openblas %.2f ms (%.1f GFLOP/s, core %s)'
                % (size, T, row['netc'], row['netc_gflops'], row['openblas'], row['openblas_gflops'],
                   info.get('core')))
            rows.append(row)
    return rows, info


# --- the table --------------------------------------------------------------------------

def table(header, rows, right_from=1):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(r):
        return '  '.join(str(c).ljust(w) if i < right_from else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return '\n'.join([fmt(header), '  '.join('-' * w for w in widths)] + [fmt(r) for r in rows])


def ms(v):
    return '-' if v is None else ('%.3f' % v if v < 10 else '%.2f' % v if v < 100 else '%.1f' % v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netc', default='build/netc', help='the netc binary (default build/netc)')
    ap.add_argument('--models', default=','.join(MODELS), help='comma-separated (default: %(default)s)')
    ap.add_argument('--threads', default='1,2', help='thread counts (default 1,2)')
    ap.add_argument('--rounds', type=int, default=9, help='interleaved rounds per row (default 9)')
    ap.add_argument('--batch-s', type=float, default=0.2,
                    help='target seconds per timed batch, which sets N (default 0.2)')
    ap.add_argument('--build-dir', default='build/bench', help='where runners are built (default build/bench)')
    ap.add_argument('--no-gemm', action='store_true', help='skip the GEMM vs OpenBLAS rows')
    ap.add_argument('--int8-models', default=','.join(INT8_MODELS),
                    help='int8 rows (netc int8, PyTorch int8, netc float), comma-separated; empty: none '
                         '(default: %(default)s)')
    ap.add_argument('--json', help='also write every measurement to this JSON file')
    ap.add_argument('--spare-min', type=float, default=4.0,
                    help='minutes that may go to waiting out other processes and repeating the '
                         'batches they disturbed (default 4; the rest of a run takes ~3)')
    ap.add_argument('--quick', action='store_true', help='smoke run: 2 rounds, short batches')
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.batch_s, a.spare_min = 2, 0.05, 0.5
    models = [m for m in a.models.split(',') if m]
    threads_list = [int(t) for t in a.threads.split(',') if t]
    netc = a.netc if os.path.isabs(a.netc) else os.path.join(ROOT, a.netc)
    bdir = a.build_dir if os.path.isabs(a.build_dir) else os.path.join(ROOT, a.build_dir)
    cc = os.environ.get('CC', 'cc')
    if not os.access(netc, os.X_OK):
        die('%s is not an executable netc (build it with make)' % netc)
    try:
        import torch
        sys.path.insert(0, os.path.join(ROOT, 'tests', 'parity'))
        import torch_models
    except ImportError as e:
        die('%s: install Debian python3-torch and python3-torchvision, run with /usr/bin/python3' % e)
    torch.set_num_interop_threads(1)

    t_start = time.time()
    guard = Guard(60 * a.spare_min)
    started = datetime.datetime.now().astimezone()
    load0 = loadavg()
    failures = []

    src_state = source_state()
    log('building the runtime (serial and -fopenmp) in %s' % os.path.relpath(bdir, ROOT))
    b = Builder(netc, bdir, cc)
    try:
        b.runtime()
    except RuntimeError as e:
        die('the runtime does not compile:\n%s' % e)

    gemm_rows, gemm_info = [], {}
    if not a.no_gemm:
        try:
            gemm_rows, gemm_info = bench_gemm(b.gemm(), threads_list, max(3, a.rounds // 2 + 1), guard)
        except (RuntimeError, KeyError, ValueError) as e:
            failures.append('gemm: %s' % e)
            log('gemm: FAILED: %s' % e)
    sgemm = {}   # the better of OpenBLAS's sizes at each thread count: robust to one disturbed size
    for r in gemm_rows:
        sgemm[r['threads']] = max(sgemm.get(r['threads'], 0.0), r['openblas_gflops'])

    model_rows = []
    for m in models:
        if m not in torch_models.MODELS:
            failures.append('%s: not in tests/parity/torch_models.py' % m)
            continue
        try:
            log('%s: netc runner (serial, -fopenmp) and PyTorch (eager, jit best)' % m)
            exes = b.runners(m)
            macs = macs_of(netc, m)
            try:
                fns = build_torch(torch, m, torch_models)
            except Exception as e:  # noqa: BLE001 -- a model PyTorch cannot script or trace is one failed row
                raise RuntimeError('PyTorch: %s: %s' % (type(e).__name__, str(e).splitlines()[0])) from e
            for row in bench_model(m, exes, torch, fns, threads_list, a.rounds, a.batch_s, guard):
                row['macs'] = macs
                row['gflops'] = 2.0 * macs / (row['netc'] * 1e6)
                model_rows.append(row)
            del fns
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            failures.append('%s: %s' % (m, e))
            log('%s: FAILED: %s' % (m, e))

    int8_rows = []
    for m in [m for m in a.int8_models.split(',') if m]:
        if m not in torch_models.MODELS:
            failures.append('%s (int8): not in tests/parity/torch_models.py' % m)
            continue
        try:
            log('%s: int8 -- netc int8 runner (calibrated), PyTorch int8 (FX, onednn, jit-frozen), netc float' % m)
            weights, calib_path, calib, torch_int8 = int8_inputs(m, bdir)
            exes_f = b.runners(m)
            try:
                exes_q = b.int8_runners(m, weights, calib_path)
            except RuntimeError as e:   # still time PyTorch's int8 and netc's float
                failures.append('%s: netc int8: %s' % (m, e))
                log('%s: netc int8 FAILED: %s' % (m, str(e).splitlines()[0]))
                exes_q = None
            torch_int8.set_engine()
            tq, how = build_torch_int8(torch, torch_int8, m, weights, calib)
            for row in bench_int8_model(m, exes_q, exes_f, weights, torch, tq, threads_list, a.rounds,
                                        a.batch_s, guard):
                row['torch_int8_via'] = how
                int8_rows.append(row)
            del tq
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            failures.append('%s (int8): %s' % (m, e))
            log('%s (int8): FAILED: %s' % (m, e))

    # --- report ---
    out = []
    out.append('netc benchmark  %s' % started.strftime('%Y-%m-%d %H:%M %Z'))
    out.append('cpu       %s; %s' % (cpu_model(), cpu_isa()))
    out.append('system    Linux %s; %s; torch %s; load average %s at start, %s at end'
               % (platform.release(), run([cc, '--version']).splitlines()[0], torch.__version__,
                  load0, loadavg()))
    out.append('netc      %s -O2 -march=native; 1-thread rows: runner built without OpenMP; '
               '2-thread rows: -fopenmp' % cc)
    out.append('source    %s' % src_state)
    out.append('torch     eager = inference_mode; best = optimize_for_inference(freeze(jit.%s)); '
               'its BLAS: %s' % ('/'.join(sorted({r['torch_best_via'] for r in model_rows})) or 'script',
                                 torch_blas_info()))
    envs = ', '.join('%s=%s' % (k, os.environ[k]) for k in sorted(os.environ)
                     if k.startswith(('OPENBLAS_', 'OMP_', 'GOMP_', 'MKL_')))
    if envs:
        out.append('env       %s (OPENBLAS_CORETYPE/L2_SIZE dropped for the sgemm command only)' % envs)
    try:
        if float(load0.split()[0]) > 0.5:
            out.append('WARNING   load average %s before the run: other processes compete for the cores, '
                       'so multi-thread rows (and spread) suffer most' % load0)
    except ValueError:
        pass
    out.append('timing    median of %d interleaved rounds, each the median of N calls (N per model, '
               '~%.1f s a batch)' % (a.rounds, a.batch_s))
    out.append('')
    hdr = ['model', 'threads', 'netc ms', 'eager ms', 'best ms', 'netc/eager', 'netc/best',
           'netc GFLOP/s', '% sgemm', 'spread', 'disturbed']
    rows = []
    for r in model_rows:
        s = sgemm.get(r['threads'])
        rows.append([r['model'], r['threads'], ms(r['netc']), ms(r['eager']), ms(r['best']),
                     '%.2fx' % (r['netc'] / r['eager']), '%.2fx' % (r['netc'] / r['best']),
                     '%.1f' % r['gflops'], '%.0f%%' % (100 * r['gflops'] / s) if s else '-',
                     '%.0f%%' % (100 * r['spread']), '%d/%d' % (r['disturbed'], r['batches'])])
    if rows or not int8_rows:
        out.append(table(hdr, rows))
    if int8_rows:
        out.append('')
        out.append('int8 (issue #14): netc --quantize int8 vs PyTorch %s int8 (FX graph mode, onednn engine, '
                   'freeze(jit.%s)), and vs netc float; same random weights and calibration file'
                   % (torch.__version__, '/'.join(sorted({r['torch_int8_via'] for r in int8_rows}))))

        def ratio(x, y):
            return '%.2fx' % (x / y) if x is not None and y else '-'
        ihdr = ['model', 'threads', 'netc int8 ms', 'torch int8 ms', 'netc float ms', 'int8/torch_int8',
                'int8/netc_float', 'spread', 'disturbed']
        irows = [[r['model'], r['threads'], ms(r.get('netc_int8')), ms(r['torch_int8']), ms(r.get('netc_float')),
                  ratio(r.get('netc_int8'), r['torch_int8']), ratio(r.get('netc_int8'), r.get('netc_float')),
                  '%.0f%%' % (100 * r['spread']), '%d/%d' % (r['disturbed'], r['batches'])] for r in int8_rows]
        out.append(table(ihdr, irows))
    if gemm_rows:
        out.append('')
        out.append('GEMM C = A B, square, fp32: runtime netc_gemm_f32 vs OpenBLAS cblas_sgemm (%s; kernel %s)'
                   % (gemm_info.get('config', '?').split(' NO_')[0], gemm_info.get('core', '?')))
        ghdr = ['gemm', 'threads', 'netc ms', 'sgemm ms', 'netc/sgemm', 'netc GFLOP/s', 'sgemm GFLOP/s',
                '% sgemm', 'spread', 'disturbed']
        grows = [['%d^3' % g['size'], g['threads'], ms(g['netc']), ms(g['openblas']),
                  '%.2fx' % (g['netc'] / g['openblas']), '%.1f' % g['netc_gflops'],
                  '%.1f' % g['openblas_gflops'], '%.0f%%' % (100 * g['netc_gflops'] / g['openblas_gflops']),
                  '%.0f%%' % (100 * g['spread']), '%d/%d' % (g['disturbed'], g['batches'])]
                 for g in gemm_rows]
        out.append(table(ghdr, grows))
    out.append('')
    out.append('ratios < 1.00x: netc is faster. %% sgemm (model rows): netc GFLOP/s over the better of '
               'OpenBLAS\'s %s GFLOP/s at the same thread count.' % ' / '.join('%d^3' % g for g in GEMM_SIZES))
    out.append('spread: largest (max - min) / median of a row\'s round figures. disturbed: timed batches '
               'during which other processes used > 10%% of a core (each was repeated up to %d times '
               'after a wait for a quiet moment while --spare-min lasted; %d repeats in all).'
               % (guard.retries, guard.retried))
    out.append('Timings are a benchmark, not a test; compare ratios within one run.')
    out.append('total %.0f s' % (time.time() - t_start))
    print('\n'.join(out), flush=True)

    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'date': started.isoformat(), 'cpu': cpu_model(), 'models': model_rows,
                       'gemm': gemm_rows, 'gemm_info': gemm_info, 'int8': int8_rows, 'source': src_state,
                       'failures': failures}, f, indent=1)
    if failures:
        print('\nFAILED (not timings -- something did not build or run):', file=sys.stderr)
        for f in failures:
            print('  ' + f.replace('\n', '\n    '), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
