"""Retrieval metrics, side by side in one run: syncdr's `retrieval_metrics`, a faithful re-expression of the
reference algorithm (sklearn `cosine_similarity` + a per-query `argsort` for each k, SynCDR/retrieval.py), and
the bound (one torch matmul + `topk(15)`). Prints times, ratios, whether Prec@k agree, and the peak extra memory
of a large run measured in a child process. The bound and ours run interleaved, `--repeats` times, so that load from
other processes hits both alike: every repeat's ratio is printed, and their median.

    python benchmarks/retrieval.py                  # 20k x 20k x 512, 100 classes; then 100k x 100k
    python benchmarks/retrieval.py --n 5000 --big 0 # quick
    python benchmarks/retrieval.py --device cuda --big 0   # the same on a GPU (the reference stays on the CPU)
"""
import argparse, json, statistics, subprocess, sys, threading, time
import numpy as np, torch
import torch.nn.functional as F

def data(n, dim, classes, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, gal = F.normalize(torch.randn(n, dim, generator=g), dim=1), F.normalize(torch.randn(n, dim, generator=g), dim=1)
    return q, torch.randint(0, classes, (n,), generator=g), gal, torch.randint(0, classes, (n,), generator=g)

def reference(q, ql, g, gl, ks=(1, 5, 15)):
    "SynCDR/retrieval.py, re-expressed: dense sklearn cosine matrix, then for each k a full argsort per query."
    from sklearn.metrics.pairwise import cosine_similarity
    sims, ql, gl = cosine_similarity(q.cpu().numpy(), g.cpu().numpy()), ql.cpu().numpy(), gl.cpu().numpy()
    n_rel = np.bincount(gl, minlength=ql.max()+1)[ql]
    res = {}
    for k in ks:
        hits = tot = 0
        for i in range(len(ql)):
            t = min(k, n_rel[i])
            order = np.argsort(sims[i])[::-1]
            hits += (gl[order[:t]] == ql[i]).sum(); tot += t
        res[f'Prec@{k}'] = hits / tot
    return res

def bound(q, g):
    s = q @ g.T
    return s.topk(15, dim=1)

def _sync():
    "Wait for queued GPU work, so that a timestamp means what it says."
    if torch.cuda.is_available(): torch.cuda.synchronize()

def timed(f, *a, **kw):
    _sync(); t = time.perf_counter(); r = f(*a, **kw); _sync(); return r, time.perf_counter() - t

def peak_child(n, dim, classes):
    "Run in a child: peak resident memory above the baseline while `retrieval_metrics` runs."
    import psutil
    from syncdr.metrics import retrieval_metrics
    q, ql, g, gl = data(n, dim, classes)
    proc, peak, stop = psutil.Process(), [0], threading.Event()
    base = proc.memory_info().rss
    def watch():
        while not stop.is_set(): peak[0] = max(peak[0], proc.memory_info().rss); time.sleep(0.005)
    th = threading.Thread(target=watch); th.start()
    _, secs = timed(retrieval_metrics, q, ql, g, gl)
    stop.set(); th.join()
    print(json.dumps(dict(peak_extra_gb=(peak[0] - base) / 2**30, seconds=secs)))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=20000); p.add_argument('--dim', type=int, default=512)
    p.add_argument('--classes', type=int, default=100); p.add_argument('--big', type=int, default=100000)
    p.add_argument('--repeats', type=int, default=3, help='interleaved timings of the bound and ours')
    p.add_argument('--device', default='cpu', help='where the bound and ours run')
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return peak_child(a.big, a.dim, a.classes)
    from syncdr.metrics import retrieval_metrics
    q, ql, g, gl = (t.to(a.device) for t in data(a.n, a.dim, a.classes))
    print(f'{a.n} queries x {a.n} gallery x {a.dim}-d, {a.classes} classes, {a.device}: '
          f"{torch.cuda.get_device_name() if a.device.startswith('cuda') else f'{torch.get_num_threads()} threads'}")
    bound(q[:100], g); retrieval_metrics(q[:100], ql[:100], g, gl)  # warm up
    t_bound, t_ours, t_top = [], [], []
    for i in range(a.repeats):                       # interleaved, so that outside load hits all alike
        t_bound.append(timed(bound, q, g)[1])
        ours, t = timed(retrieval_metrics, q, ql, g, gl); t_ours.append(t)
        top, t = timed(retrieval_metrics, q, ql, g, gl, metrics=('Prec@k', 'P@k')); t_top.append(t)
        print(f'repeat {i}: bound {t_bound[-1]:6.2f} s   syncdr all {t_ours[-1]:6.2f} s = {t_ours[-1]/t_bound[-1]:5.2f}x the bound   '
              f'Prec@k+P@k only {t:6.2f} s = {t/t_bound[-1]:5.2f}x')
    ratio, ratio_top = (statistics.median(o / b for o, b in zip(t, t_bound)) for t in (t_ours, t_top))
    t_bound, t_ours, t_top = statistics.median(t_bound), statistics.median(t_ours), statistics.median(t_top)
    assert all(top[k] == ours[k] for k in top), 'the top-k path disagrees with the full one'
    ref, t_ref = timed(reference, q, ql, g, gl)
    print(f'bound (matmul + topk(15))            {t_bound:8.2f} s')
    print(f'syncdr retrieval_metrics (all)       {t_ours:8.2f} s   {ratio:6.2f}x the bound (median ratio)   {t_ref/t_ours:6.1f}x faster than the reference')
    print(f'syncdr Prec@k and P@k only (top-k)   {t_top:8.2f} s   {ratio_top:6.2f}x the bound (median ratio)')
    print(f'reference (sklearn + argsort per k)  {t_ref:8.2f} s')
    same = all(ours[k] == ref[k] for k in ref)
    print('Prec@k identical to the reference:', same, {k: (round(ours[k], 6), round(float(ref[k]), 6)) for k in ref})
    if a.big:
        cmd = [sys.executable, __file__, '--child', '--big', str(a.big), '--dim', str(a.dim), '--classes', str(a.classes)]
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        print(f"{a.big} x {a.big}: peak extra memory {r['peak_extra_gb']:.2f} GB, {r['seconds']:.0f} s")

if __name__ == '__main__': main()
