"""CUT training speed, side by side in one run on CPU: `train_cut` (the small preset on the built-in digits, with its
per-iteration sampler, learning-rate schedule, loss log, metrics and checkpoint writes) vs a plain-PyTorch loop doing
the same forward/backward with the same model, batch size and optimisers.

Two plain baselines:
- `plain`: the same data pipeline (the same `DomainDataset` and crop/flip transforms, a stock `DataLoader` drawing
  random batches with replacement). This is the like-for-like baseline the target (>= 0.9x) refers to: CUT draws and
  augments a fresh batch every iteration, so any real loop pays for loading.
- `plain, in memory`: pre-made tensors, no loading at all: the ceiling, showing what the data pipeline costs.

    flock /tmp/cpu.lock python benchmarks/cut.py [--iters 100] [--repeats 5]
"""
import argparse, shutil, statistics, tempfile, time
from pathlib import Path
import torch, torch.nn.functional as F
from syncdr.core import set_seed
from syncdr.data import DomainDataset
from syncdr.datasets import materialize_digits
from syncdr.translate.cut import CUTModel, cut_config, cut_transform, lsgan, train_cut

def ours(cfg, out):
    "Iterations/s of `train_cut` (a fresh run each time, setup included)."
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter(); train_cut(cfg, out, show_progress=False)
    return cfg.iters / (time.perf_counter() - t)

def plain_step(model, opt_g, opt_d, a, b):
    "The CUT step written out in plain PyTorch: G on both batches, D update, then G + PatchNCE update."
    cfg, B = model.cfg, len(a)
    fake = model.G(torch.cat([a, b])); fake_b, idt_b = fake[:B], fake[B:]
    model.D.requires_grad_(True); opt_d.zero_grad()
    loss_d = 0.5 * (lsgan(model.D(fake_b.detach()), False) + lsgan(model.D(b), True))
    loss_d.backward(); opt_d.step()
    model.D.requires_grad_(False); opt_g.zero_grad()
    loss_g = lsgan(model.D(fake_b), True) + 0.5 * (model.nce(a, fake_b) + model.nce(b, idt_b))
    loss_g.backward(); opt_g.step()

def batches_from_pipeline(cfg):
    "Endless random batches of both domains through the same dataset and transforms as `train_cut`."
    lists, tfm = Path(cfg.lists), cut_transform(cfg)
    def loader(d, split):
        ds = DomainDataset.from_list(lists/f'{d}_{split}.txt', tfm)
        return iter(torch.utils.data.DataLoader(ds, batch_size=cfg.batch_size, num_workers=cfg.workers,
                                                sampler=torch.utils.data.RandomSampler(ds, replacement=True, num_samples=cfg.batch_size * cfg.iters)))
    la, lb = loader(cfg.source, cfg.source_split), loader(cfg.target, cfg.target_split)
    while True: yield next(la)[0], next(lb)[0]

def batches_in_memory(cfg):
    "The same pre-made pair of batches every iteration."
    g = torch.Generator().manual_seed(0)
    a, b = (torch.rand(cfg.batch_size, 3, cfg.size, cfg.size, generator=g) * 2 - 1 for _ in range(2))
    while True: yield a, b

def plain(cfg, batches):
    "Iterations/s of a plain loop (setup included, as for `train_cut`)."
    t = time.perf_counter()
    set_seed(cfg.seed)
    model = CUTModel(cfg).train()
    opt_g = torch.optim.Adam(list(model.G.parameters()) + list(model.Fproj.parameters()), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(model.D.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    data = batches(cfg)
    for _ in range(cfg.iters): plain_step(model, opt_g, opt_d, *next(data))
    return cfg.iters / (time.perf_counter() - t)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=100); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--per-class', type=int, default=20)
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        materialize_digits(tmp/'digits', n_per_class=a.per_class, show_progress=False)
        cfg = cut_config('small', lists=str(tmp/'digits'), source='mnist', target='optdigits', iters=a.iters, cpu=True)
        print(f"CUT small preset, mnist→optdigits at {cfg.size} px, batch {cfg.batch_size}, {cfg.iters} iterations "
              f"(log every {cfg.log_every}, checkpoint every {cfg.save_every}), torch threads {torch.get_num_threads()}, {a.repeats} interleaved repeats")
        runs = {'train_cut': lambda: ours(cfg, tmp/'run'), 'plain': lambda: plain(cfg, batches_from_pipeline),
                'plain, in memory': lambda: plain(cfg, batches_in_memory)}
        speeds = {k: [] for k in runs}
        for r in range(a.repeats):
            for k, f in runs.items(): speeds[k].append(f())
            print(f"repeat {r}: " + ', '.join(f'{k} {v[-1]:.2f} it/s' for k, v in speeds.items()))
        best, med = ({k: f(v) for k, v in speeds.items()} for f in (max, statistics.median))
        for k in speeds: print(f"{k:>17}: {best[k]:.2f} it/s best, {med[k]:.2f} median")
        # the best repeat is the one least disturbed by other work on a shared machine; the median is shown beside it
        print(f"ratio train_cut / plain (same data pipeline): {best['train_cut'] / best['plain']:.2f} best, "
              f"{med['train_cut'] / med['plain']:.2f} median (target >= 0.9)")
        print(f"ratio train_cut / plain, in memory (no loading): {best['train_cut'] / best['plain, in memory']:.2f} best, "
              f"{med['train_cut'] / med['plain, in memory']:.2f} median")
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
