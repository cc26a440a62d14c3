"""`syncdr demo` (the default size) against its budget of 5 minutes on 2 CPU cores: wall time of every stage, the total,
and the CPU time of the process (user + system), so a run on a shared machine can still be judged.
The glyph pretraining is included: the cache is a fresh temporary folder unless --cache is given.

    python benchmarks/demo.py [--out DIR] [--size default|quick|full] [--seed 0] [--threads 2] [--cache DIR]
"""
import argparse, json, os, resource, tempfile, time
from pathlib import Path

BUDGET_S = 300

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default=None); p.add_argument('--size', default='default'); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2); p.add_argument('--cache', default=None)
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    tmp = Path(tempfile.mkdtemp(prefix='syncdr_bench_'))
    out, cache = Path(a.out) if a.out else tmp/'demo', a.cache or tmp/'cache'
    if (out/'demo_settings.json').exists(): raise SystemExit(f'{out} already holds a demo run: its stages would be reused, not timed')
    t0 = time.perf_counter()
    from syncdr.demo import run_demo  # importing fastai and torch is part of what a user waits for
    t_import = time.perf_counter() - t0
    rows = run_demo(out, a.size, seed=a.seed, cache=cache)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    secs = json.loads((out/'table.json').read_text())['seconds']
    print(f'\n{"stage":<10} {"seconds":>8}')
    print(f'{"import":<10} {t_import:8.1f}')
    for k, v in secs.items(): print(f'{k:<10} {v:8.1f}')
    print(f'{"total":<10} {wall:8.1f}   budget {BUDGET_S} s: {wall / BUDGET_S:.2f} of it ({"within" if wall <= BUDGET_S else "OVER"})')
    print(f'CPU time: user {ru.ru_utime:.1f} s, system {ru.ru_stime:.1f} s ({a.threads} threads; on a machine shared with other work the wall time is inflated)')
    m = {r: v['mean Prec@1'] for r, v in rows.items()}
    print('\nmean test Prec@1: ' + ', '.join(f'{r} {v:.3f}' for r, v in m.items()))
    print(f"syncdr (CUT) - cds: {100*(m['syncdr (CUT)'] - m['cds']):+.1f} points (target +10); "
          f"syncdr (CUT) - raw pixels: {100*(m['syncdr (CUT)'] - m['raw pixels']):+.1f}; "
          f"syncdr (CUT) - untrained: {100*(m['syncdr (CUT)'] - m['untrained (glyph-pretrained)']):+.1f}")

if __name__ == '__main__': main()
