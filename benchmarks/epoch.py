"""One training epoch, side by side in one run (CPU, or a GPU with --device cuda): `syncdr train`'s learner (data loading, steps, bank updates,
retrieval validation, checkpoint) vs a plain PyTorch/PIL re-expression of the reference epoch (SynCDR/train.py,
train_fns/selfsup.py, LinearAverage.py, retrieval.py) on the same lists, model, batch sizes and transforms.
Banks are filled before the timed epoch in both (the reference's `memory_first`), timed apart and left out of the ratio.

    python benchmarks/epoch.py                      # 2 domains x 40 classes x 80 images of 96 px, 64-px crops, resnet18
    python benchmarks/epoch.py --per-class 24 --repeats 1   # quick
    python benchmarks/epoch.py --device cuda --size 300 --resize 256 --crop 224 --arch resnet50 --workers 4   # GPU, DomainNet-size crops

On a GPU both sides train as the reference does: fp16 autocast with a GradScaler (syncdr's `--precision auto`).
"""
import argparse, dataclasses, os, shutil, statistics, tempfile, time
from pathlib import Path
import torch, torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from fastai.callback.core import Callback
import syncdr.learner as sl
from syncdr.learner import TrainConfig, build_learner, embedder_of, batch_sizes
from syncdr.data import read_list, syn_path, train_transform, eval_transform
from syncdr.splits import split_tree, split_disjoint
from syncdr.test_utils import make_image_tree
from syncdr.translate.engine import generate, IdentityTranslator
from train_step import entropy_topk                        # the reference's CDS entropy, as benchmarks/train_step.py
from retrieval import reference as reference_retrieval, _sync  # sklearn cosine + per-k argsort, as benchmarks/retrieval.py; GPU sync

SRC, TGT = 'clipart', 'painting'

def make_data(root:Path, classes:int, per_class:int, size:int) -> Path:
    "Image tree, DomainNet-rule train/val/test lists, category-disjoint halves and identity translations under `root`."
    if (root/'syn'/f'{TGT}2{SRC}'/'manifest.json').is_file(): return root
    make_image_tree(root, domains=(SRC, TGT), n_classes=classes, n_per_class=per_class, size=size, ext='jpg')
    split_tree(root, (SRC, TGT), out=root/'lists')
    split_disjoint([root/'lists'/f'{d}_train.txt' for d in (SRC, TGT)])
    for s, t, split in ((SRC, TGT, 'train_cls_disjoint1'), (TGT, SRC, 'train_cls_disjoint2')):
        generate(IdentityTranslator(), root/'lists'/f'{s}_{split}.txt', root/'syn', s, t, batch_size=64, show_progress=False)
    return root

# --- ours: the real learner, timed by two callbacks (one first, one last in every event) ---------------------------

class _Clock(Callback):
    "Timestamps of the epoch's events, and the time the training loop spends between batches (waiting for data)."
    def __init__(self, log, order, timers=()): self.log, self.order, self.timers = log, order, timers
    def _t(self, k): _sync(); self.log[k] = time.perf_counter()
    def before_epoch(self):
        if self.order > 0: return
        self._t('epoch0'); self.log['wait'] = 0.
        for t in self.timers: t.secs = 0.  # the bank fill's embedding is not the validation's
    def before_train(self):
        if self.order < 0: self._t('last')
    def before_batch(self):
        if self.order < 0: self.log['wait'] += time.perf_counter() - self.log['last']
    def after_batch(self):
        if self.order > 0: self._t('last')
    def after_train(self):
        if self.order > 0: self._t('train1')
    def after_epoch(self):
        if self.order > 0: self._t('epoch1')

class _Timed:
    "Wraps a function of `syncdr.learner` to add up its time (instrumentation only: the learner's code is unchanged)."
    def __init__(self, f): self.f, self.secs = f, 0.
    def __call__(self, *a, **kw):
        t = time.perf_counter(); r = self.f(*a, **kw); self.secs += time.perf_counter() - t; return r

def build_ours(cfg:TrainConfig, run_dir:Path, bf16:bool=False):
    learn = build_learner(dataclasses.replace(cfg, precision='bf16') if bf16 else cfg, run_dir, show_progress=False)
    return learn, {k: v.clone() for k, v in embedder_of(learn).state_dict().items()}

def ours(learn) -> dict:
    "One epoch of the learner: `learn.fit(1)` as `syncdr train` runs it."
    log, embed, evalf = {}, _Timed(sl.embed), _Timed(sl.cross_domain_eval)
    learn.add_cbs([_Clock(log, -1000, (embed, evalf)), _Clock(log, 1000)])
    sl.embed, sl.cross_domain_eval = embed, evalf
    try:
        t = time.perf_counter(); learn.fit(1, learn.lr)
    finally: sl.embed, sl.cross_domain_eval = embed.f, evalf.f
    return dict(bank_fill=log['epoch0'] - t, epoch=log['epoch1'] - log['epoch0'], train=log['train1'] - log['epoch0'],
                wait=log['wait'], embed=embed.secs, retrieval=evalf.secs, steps=len(learn.dls.train))

# --- the reference, re-expressed in plain PyTorch/PIL ------------------------------------------------------------

class RefImages(Dataset):
    "SynCDR/return_dataset.py's list dataset: PIL open + convert('RGB') + transform on every access, returning (image, label, index)."
    def __init__(self, paths, labels, tfm): self.paths, self.labels, self.tfm = paths, labels, tfm
    def __len__(self): return len(self.paths)
    def __getitem__(self, i):
        with open(self.paths[i], 'rb') as f: img = Image.open(f).convert('RGB')
        return self.tfm(img), self.labels[i], i

def ref_sets(cfg:TrainConfig, tfm):
    "Source-style and target-style training sets (real ∪ translations of the other domain) and their counterpart sets."
    s_items = read_list(Path(cfg.lists)/f'{cfg.source}_{cfg.train_split1}.txt')
    t_items = read_list(Path(cfg.lists)/f'{cfg.target}_{cfg.train_split2}.txt')
    rs, rt = [p for p, _ in s_items], [p for p, _ in t_items]
    s2t = [syn_path(p, cfg.syn_root, cfg.source, cfg.target) for p in rs]
    t2s = [syn_path(p, cfg.syn_root, cfg.target, cfg.source) for p in rt]
    mk = lambda ps: RefImages(ps, [0]*len(ps), tfm)
    return mk(rs + t2s), mk(rt + s2t), mk(s2t + rt), mk(t2s + rs)  # source, target, source_syn, target_syn

def ref_loader(ds, bs, workers, seed=None, pin=False):
    "A shuffled, drop_last loader; loaders given the same `seed` draw the same order (real and counterpart stay aligned)."
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    return DataLoader(ds, bs, shuffle=True, drop_last=True, num_workers=workers, generator=g, pin_memory=pin)

@torch.no_grad()
def ref_embed(model, ds, workers, bs=100):
    model.eval()
    dev = next(model.parameters()).device
    with torch.autocast(dev.type, enabled=dev.type == 'cuda'):
        out = [(model(x.to(dev)).float().cpu(), torch.as_tensor(y)) for x, y, _ in DataLoader(ds, bs, num_workers=workers, pin_memory=dev.type == 'cuda')]
    model.train()
    return torch.cat([e for e, _ in out]), torch.cat([y for _, y in out])

def renorm_update(V, idx, f, m=0.5):
    "LinearAverage.update_weight: momentum update of the batch's rows, then the whole bank renormalised."
    V[idx] = V[idx] * m + f * (1 - m)
    V.div_(V.norm(dim=1, keepdim=True))

def reference(model, cfg:TrainConfig, workers:int, run_dir:Path, ppp:bool, tau=0.1) -> dict:
    tr, ev = train_transform(cfg.resize, cfg.crop), eval_transform(cfg.resize, cfg.crop)
    src, tgt, src_syn, tgt_syn = ref_sets(cfg, tr)
    dev = next(model.parameters()).device
    cuda, to = dev.type == 'cuda', (lambda x: x.to(dev, non_blocking=True))
    if cuda: torch.backends.cudnn.benchmark = True                      # as SynCDR/train.py
    scaler = torch.amp.GradScaler('cuda', enabled=cuda)                 # AMP on the GPU, as train_fns/selfsup.py
    t0 = time.perf_counter()
    Vs, Vt = (to(F.normalize(ref_embed(model, ds, workers)[0], dim=1)) for ds in (src, tgt))  # memory_first, train transform
    _sync(); t1 = time.perf_counter()
    bs_s, bs_t = batch_sizes(len(src), len(tgt), cfg.batch_size)
    seed_s, seed_t = (int(torch.randint(2**31, ())) for _ in range(2))
    src_dl, tgt_dl = ref_loader(src, bs_s, workers, seed_s, cuda), ref_loader(tgt, bs_t, workers, seed_t, cuda)
    syn_dls = (ref_loader(src_syn, bs_s, workers, seed_s, cuda), ref_loader(tgt_syn, bs_t, workers, seed_t, cuda)) if ppp else None
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.wd)
    model.train()
    t2 = time.perf_counter()
    src_it, tgt_it, syn_its = iter(src_dl), iter(tgt_dl), tuple(map(iter, syn_dls)) if ppp else None
    wait = time.perf_counter() - t2  # the workers' start-up, as the first batch's wait in ours
    for _ in range(len(src_dl)):
        w = time.perf_counter()
        xs, _, i = next(src_it)
        try: xt, _, j = next(tgt_it)
        except StopIteration: tgt_it = iter(tgt_dl); xt, _, j = next(tgt_it)
        if ppp:
            (cs, _, i2), (ct, _, j2) = next(syn_its[0]), next(syn_its[1])
            assert (i2 == i).all() and (j2 == j).all()
        wait += time.perf_counter() - w
        xs, xt, i, j = to(xs), to(xt), to(i), to(j)
        with torch.autocast(dev.type, enabled=cuda):
            fs, ft = model(xs), model(xt)
            loss = 0.5 * (F.cross_entropy(fs @ Vs.T / tau, i) + F.cross_entropy(ft @ Vt.T / tau, j))
            loss = loss + entropy_topk(ft, Vs, cfg.k, tau) + entropy_topk(fs, Vt, cfg.k, tau)
            if ppp:
                fcs, fct, ar = model(to(cs)), model(to(ct)), torch.arange(len(fs), device=dev)
                loss = loss + 0.5 * (F.cross_entropy(fcs @ fs.T / cfg.t_syn, ar) + F.cross_entropy(fct @ ft.T / cfg.t_syn, torch.arange(len(ft), device=dev)))
        opt.zero_grad(); scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        with torch.no_grad(): renorm_update(Vs, i, fs.detach().float()); renorm_update(Vt, j, ft.detach().float())
    _sync(); t3 = time.perf_counter()
    va, vb = (RefImages(*zip(*read_list(Path(cfg.lists)/f'{d}_{cfg.val_split}.txt')), ev) for d in (cfg.source, cfg.target))
    (ea, la), (eb, lb) = ref_embed(model, va, workers), ref_embed(model, vb, workers)
    t4 = time.perf_counter()
    reference_retrieval(ea, la, eb, lb); reference_retrieval(eb, lb, ea, la)  # S2T and T2S, Prec@1/5/15
    t5 = time.perf_counter()
    state = dict(net=model.state_dict(), optimizer=opt.state_dict(), lemniscate_s=Vs, lemniscate_t=Vt, epoch=0)
    torch.save(state, run_dir/'checkpoint.pth.tar'); shutil.copyfile(run_dir/'checkpoint.pth.tar', run_dir/'best_model.pth.tar')
    t6 = time.perf_counter()
    return dict(bank_fill=t1 - t0, epoch=t6 - t2, train=t3 - t2, wait=wait, embed=t4 - t3, retrieval=t5 - t4, steps=len(src_dl))

# --- driver ------------------------------------------------------------------------------------------------------

def line(name, r):
    return (f"{name:<36}{r['epoch']:8.1f} s   train {r['train']:6.1f} s ({int(r['steps'])} steps, data wait {r['wait']:5.1f} s = "
            f"{100*r['wait']/r['train']:4.1f}%)   val embed {r['embed']:5.1f} s   retrieval {r['retrieval']:5.2f} s   "
            f"other {r['epoch'] - r['train'] - r['embed'] - r['retrieval']:4.1f} s   [bank fill {r['bank_fill']:5.1f} s]")

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help='folder for the generated tree and lists (reused when present; default: a temporary one)')
    p.add_argument('--classes', type=int, default=40); p.add_argument('--per-class', type=int, default=80)
    p.add_argument('--size', type=int, default=96, help='side of the JPEG images written')
    p.add_argument('--resize', type=int, default=72); p.add_argument('--crop', type=int, default=64)
    p.add_argument('--arch', default='resnet18'); p.add_argument('--method', default='syncdr')
    p.add_argument('--bs', type=int, default=32)
    p.add_argument('--workers', type=int, default=0, help="ours: TrainConfig.workers")
    p.add_argument('--cache-mb', type=float, default=1024, help='ours: decoded-image cache budget (0: off)')
    p.add_argument('--ref-workers', type=int, default=4, help='reference: workers of each of its loaders (SynCDR uses 4)')
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument('--bf16', action='store_true', help='also time ours with --precision bf16')
    p.add_argument('--device', default='cpu', choices=('cpu', 'cuda'), help='where both sides train')
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix='syncdr_epoch_'))
    try:
        data = make_data(Path(a.data) if a.data else tmp/'data', a.classes, a.per_class, a.size)
        cfg = TrainConfig(lists=str(data/'lists'), source=SRC, target=TGT, syn_root=str(data/'syn'), method=a.method, arch=a.arch,
                          weights='none', epochs=1, batch_size=a.bs, resize=a.resize, crop=a.crop, workers=a.workers, cache_mb=a.cache_mb, cpu=a.device == 'cpu')
        ppp = bool(sl.run_spec(cfg)['ppp_weight'])
        n = {f: len(read_list(data/'lists'/f'{f}.txt')) for f in (f'{SRC}_train_cls_disjoint1', f'{TGT}_train_cls_disjoint2', f'{SRC}_val', f'{TGT}_val')}
        print(f"{a.device}{' ' + torch.cuda.get_device_name() if a.device == 'cuda' else ''}: {a.arch} --weights none, --method {a.method}, {a.size}-px JPEGs resized to {a.resize}, {a.crop}-px crops, batch {a.bs} per domain"
              f"{' (+ counterparts)' if ppp else ''}, {torch.get_num_threads()} torch threads, {os.cpu_count()} cores")
        print(f"lists: {' / '.join(f'{k} {v}' for k, v in n.items())}; training sets (real ∪ translations) "
              f"{n[f'{SRC}_train_cls_disjoint1'] + n[f'{TGT}_train_cls_disjoint2']} each; banks filled before the timed epoch (not in the ratio)")
        print(f"data loading: ours TrainConfig.workers={a.workers}, decoded-image cache "
              f"{f'{a.cache_mb:g} MB (--cache-mb)' if a.cache_mb else 'off'}; reference {a.ref_workers} workers per loader "
              f"({4 if ppp else 2} training loaders), PIL decode + transform on every access")
        names = dict(ref='reference epoch', ours=f'syncdr train epoch ({cfg.precision})') | (dict(bf16='syncdr train epoch (--precision bf16)') if a.bf16 else {})
        rows = {k: [] for k in names}
        for r in range(a.repeats):  # interleaved, so drifts in machine load hit all alike
            learn, init = build_ours(cfg, tmp/f'ours{r}')
            model = sl.create_embedder(a.arch, 'none', cfg.dim); model.load_state_dict(init); model.to(a.device)
            (tmp/f'ref{r}').mkdir()
            torch.manual_seed(r); rows['ref'].append(reference(model, cfg, a.ref_workers, tmp/f'ref{r}', ppp))
            torch.manual_seed(r); rows['ours'].append(ours(learn))
            if a.bf16: torch.manual_seed(r); rows['bf16'].append(ours(build_ours(cfg, tmp/f'bf16{r}', bf16=True)[0]))
            for k in names: print(line(f'  {names[k]}, run {r+1}', rows[k][-1]))
        med = {k: {f: statistics.median(x[f] for x in v) for f in v[0]} for k, v in rows.items()}
        print(f'median of {a.repeats}:')
        for k in names: print(line(names[k], med[k]))
        for k in names:
            if k != 'ref': print(f"ratio reference/{names[k]}: {med['ref']['epoch'] / med[k]['epoch']:.2f}x (target >= 1.5)")
        print('data-wait share of the training loop: ' + ', '.join(f"{names[k]} {100*med[k]['wait']/med[k]['train']:.1f}%" for k in names))
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
