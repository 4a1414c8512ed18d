#!/usr/bin/python3
"""layer_profile.py -- where a generated netc runner spends its time, layer by layer.

    /usr/bin/python3 tools/layer_profile.py MODEL [--threads T] [--bench N] [--top K] [--netc build/netc]

Writes models/MODEL.net's runner with `netc --main`, inserts a clock read before every layer
that runs code (one per "/* name: op ... */" comment in MODEL_forward; layers folded or fused
into a producer, and views, have none), compiles it with the runtime sources (-O2
-march=native, plus -fopenmp when T > 1), runs `--bench N --threads T`, and prints each layer's
mean time per forward call (the runner's untimed warm-up call excluded), its share, MACs and
GFLOP/s, then the totals per kernel kind (conv kxk, 1x1, depthwise, linear, ...).

--clock cpu reads the process CPU time instead of the wall clock: on a busy machine it
leaves out the time the runner was preempted (with --threads 1). The clock reads cost ~20 ns each; timings include the kernels' own thread start-up and
barriers, which is the point. A tool for finding what to optimise, not a benchmark.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROF_DEFS = r'''
#include <stdio.h>
#include <time.h>
#define NPROF_SEGS @NSEG@
static const char *const nprof_names[NPROF_SEGS] = {@NAMES@};
static double nprof_ms[NPROF_SEGS], nprof_last;
static int nprof_cur = -1;
static long nprof_calls;
static double nprof_now(void) {
  struct timespec ts;
  clock_gettime(@CLOCK@, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static void nprof_mark(int k) {
  double t = nprof_now();
  if (nprof_cur >= 0)
    nprof_ms[nprof_cur] += t - nprof_last;
  if (k == 0)
    nprof_calls++;
  if (k == NPROF_SEGS) {            /* end of forward: drop the warm-up call */
    if (nprof_calls == 1)
      for (int i = 0; i < NPROF_SEGS; i++)
        nprof_ms[i] = 0.0;
    nprof_cur = -1;
  } else {
    nprof_cur = k;
  }
  nprof_last = nprof_now();
}
__attribute__((destructor)) static void nprof_dump(void) {
  const char *path = getenv("NPROF_OUT");
  FILE *f = path ? fopen(path, "w") : stderr;
  if (!f)
    return;
  fprintf(f, "calls %ld\n", nprof_calls > 1 ? nprof_calls - 1 : 1);
  for (int i = 0; i < NPROF_SEGS; i++)
    fprintf(f, "seg %d %.6f %s\n", i, nprof_ms[i], nprof_names[i]);
  if (f != stderr)
    fclose(f);
}
'''

LAYER_RE = re.compile(r'^  /\* ([^:*]+): (.*?) \*/\s*$')


def instrument(src, model, kinds, clock='CLOCK_MONOTONIC'):
    """kinds: layer name -> the kernel kind to total it under (from the JSON report)."""
    lines = src.split('\n')
    start = next(i for i, l in enumerate(lines) if l.startswith('void %s_forward(' % model))
    end = next(i for i, l in enumerate(lines) if l.startswith('} /* end %s_forward' % model))
    segs, out = [], []
    for i, l in enumerate(lines):
        m = LAYER_RE.match(l) if start < i < end else None
        if m and 'computed by' not in m.group(2) and 'a view of its input' not in m.group(2):
            kind = kinds.get(m.group(1).strip(), m.group(2).split()[0])
            out.append('  nprof_mark(%d);' % len(segs))
            segs.append((m.group(1), kind, m.group(2)))
        if i == end:
            out.append('  nprof_mark(NPROF_SEGS);')
        out.append(l)
    names = ', '.join('"%s"' % s[0].replace('"', '') for s in segs)
    text = '\n'.join(out)
    anchor = '#include "netc_rt.h"\n'
    text = text.replace(anchor, anchor + PROF_DEFS.replace('@NSEG@', str(len(segs))).replace('@NAMES@', names).replace('@CLOCK@', clock), 1)
    # clock_gettime: the runner itself no longer needs POSIX (runtime/runner.c does the timing).
    text = '#define _POSIX_C_SOURCE 200809L\n' + text
    return text, segs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model')
    ap.add_argument('--netc', default=os.path.join(ROOT, 'build', 'netc'))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--bench', type=int, default=20)
    ap.add_argument('--top', type=int, default=25)
    ap.add_argument('--clock', choices=('wall', 'cpu'), default='wall',
                    help='wall (default) or cpu: the process CPU time, which leaves out time the '
                         'runner was preempted (use with --threads 1 on a busy machine)')
    ap.add_argument('--runtime-objs', metavar='DIR',
                    help='link the runtime objects in DIR (e.g. build/bench/rt-serial or rt-omp, '
                         'the build a bench run timed) instead of compiling runtime/*.c now')
    ap.add_argument('--keep', help='build here instead of a temporary directory')
    a = ap.parse_args()

    d = a.keep or tempfile.mkdtemp(prefix='netc-prof-')
    os.makedirs(d, exist_ok=True)
    model = a.model
    src = os.path.join(d, model + '.c')
    subprocess.run([a.netc, os.path.join(ROOT, 'models', model + '.net'), '-o', src, '--main'], check=True)
    report = json.loads(subprocess.run([a.netc, '--report=json', os.path.join(ROOT, 'models', model + '.net')],
                                       check=True, stdout=subprocess.PIPE).stdout)
    # Totals per kernel kind: the op and the runtime kernel netc chose for it
    # ("conv2d winograd", "conv2d depthwise", "linear gemv", ...).
    kinds = {l['name']: '%s %s' % (l['op'], l['kernel']) if l['kernel'] != l['op'] else l['op']
             for l in report['layers']}
    with open(src) as f:
        text, segs = instrument(f.read(), model, kinds,
                                'CLOCK_PROCESS_CPUTIME_ID' if a.clock == 'cpu' else 'CLOCK_MONOTONIC')
    with open(src, 'w') as f:
        f.write(text)
    macs = {}
    for l in report['layers']:
        macs.setdefault(l['name'], l['macs'])
    if a.runtime_objs:
        rt = sorted(os.path.join(a.runtime_objs, s) for s in os.listdir(a.runtime_objs) if s.endswith('.o'))
    else:
        # The runtime's sources as runtime/runtime.mk lists them (RUNTIME_SRCS).
        with open(os.path.join(ROOT, 'runtime', 'runtime.mk'), encoding='utf-8') as f:
            m = re.search(r'^RUNTIME_SRCS\s*:?=(.*)$', f.read().replace('\\\n', ' '), re.M)
        rt = [os.path.join(ROOT, 'runtime', os.path.basename(w)) for w in m.group(1).split() if w.endswith('.c')]
    exe = os.path.join(d, model + ('-omp' if a.threads > 1 else ''))
    cmd = (['cc', '-std=c99', '-O2', '-g', '-march=native', '-I' + d, '-I' + os.path.join(ROOT, 'runtime')]
           + (['-fopenmp'] if a.threads > 1 else []) + [src] + rt + ['-lm', '-o', exe])
    subprocess.run(cmd, check=True)
    dump = os.path.join(d, 'nprof.txt')
    env = dict(os.environ, NPROF_OUT=dump)
    r = subprocess.run([exe, '--bench', str(a.bench), '--threads', str(a.threads)], env=env, check=True,
                       stdout=subprocess.PIPE, universal_newlines=True)
    median = r.stdout.strip().splitlines()[-1]
    with open(dump) as f:
        rows = f.read().split('\n')
    calls = int(rows[0].split()[1])
    times = [float(l.split()[2]) / calls for l in rows[1:] if l.startswith('seg ')]
    total = sum(times)
    print('%s: %d layers that run code, --bench %d --threads %d: %s; instrumented sum %.3f ms/call (%s clock)'
          % (model, len(segs), a.bench, a.threads, median, total, a.clock))
    order = sorted(range(len(segs)), key=lambda i: -times[i])
    hdr = '%-28s %-16s %9s %6s %14s %9s  %s' % ('layer', 'kernel', 'ms', '%', 'MACs', 'GFLOP/s', 'what')
    print(hdr)
    print('-' * len(hdr))
    for i in order[:a.top]:
        name, kind, what = segs[i]
        mc = macs.get(name, 0)
        gf = '%.1f' % (2 * mc / (times[i] * 1e6)) if mc and times[i] > 0 else '-'
        what = re.sub(r' \(/[^)]*\)$', '', what)
        print('%-28s %-16s %9.3f %5.1f%% %14s %9s  %s' % (name[:28], kind, times[i], 100 * times[i] / total,
                                                          '{:,}'.format(mc), gf, what[:70]))
    print()
    kinds = {}
    for i, (name, kind, _) in enumerate(segs):
        k = kinds.setdefault(kind, [0.0, 0, 0])
        k[0] += times[i]
        k[1] += macs.get(name, 0)
        k[2] += 1
    print('%-20s %6s %9s %6s %16s %9s' % ('kernel kind', 'layers', 'ms', '%', 'MACs', 'GFLOP/s'))
    for kind, (t, mc, n) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
        print('%-20s %6d %9.3f %5.1f%% %16s %9s' % (kind, n, t, 100 * t / total, '{:,}'.format(mc),
                                                     '%.1f' % (2 * mc / (t * 1e6)) if mc and t > 0 else '-'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
