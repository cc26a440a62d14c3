"""`syncdr train` under `torchrun` with 2 processes (gloo on the CPU): identical memory banks in every process, one
writer, and the same run as 1 process with the same global batch — also when a run is resumed with another number
of processes.

The comparison runs use a model without BatchNorm (`timm:test_convnext`, LayerNorm only) and no augmentation: BatchNorm
normalises each process's share of the batch separately (SyncBatchNorm has no CPU kernels, so it is used on GPUs only),
and random crops are drawn from each process's own generator. What remains is the order of float reductions: the
gradient is averaged over 2 processes instead of summed over one batch, and the loss sums in another order. After 4 SGD
steps that leaves differences of about 1e-7 in the weights and 1e-5 in the banks (measured); the tolerances below are 100×
that, far below what a wrong shard, a missed bank update or a doubled gradient would give (those change the weights by
1e-3 or more, see `test_a_wrong_global_batch_is_caught`).
"""
import json, os, socket, subprocess, sys
from pathlib import Path
import pytest, torch
from conftest import tiny_lists

CFG = dict(source='clipart', target='painting', method='cds', arch='timm:test_convnext', weights='none', augment='none', dim=16,
           batch_size=4, k=20, resize=36, crop=32, epochs=2, cpu=True)
SCRIPT = '''
import json, sys, torch
from syncdr.learner import TrainConfig, train, rank_world
learn = train(TrainConfig(**json.loads(sys.argv[1])), sys.argv[2], show_progress=False)
torch.save(learn.loss_func.state_dict(), f"{sys.argv[2]}/banks_rank{rank_world()[0]}.pt")
'''

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def torchrun(n, *args, cwd):
    "Run `args` in `n` processes under torchrun; assert success."
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(n), '--master_port', str(free_port()), *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr[-4000:]
    return r

def max_diff(a:dict, b:dict) -> float: return max(float((a[k].float() - b[k].float()).abs().max()) for k in a if a[k].is_floating_point())

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "The same 2-epoch run with 2 processes and with 1."
    tmp = tmp_path_factory.mktemp('ddp')
    lists = tiny_lists(tmp)
    (tmp/'train.py').write_text(SCRIPT)
    cfg = json.dumps(dict(CFG, lists=str(lists)))
    for n in (2, 1): torchrun(n, tmp/'train.py', cfg, tmp/f'run{n}', cwd=tmp)
    return tmp

def test_banks_identical_in_every_process(runs):
    b0, b1 = (torch.load(runs/'run2'/f'banks_rank{r}.pt') for r in (0, 1))
    assert all(torch.equal(b0[k], b1[k]) for k in b0)
    assert not torch.equal(b0['bank_s.memory'], torch.zeros_like(b0['bank_s.memory']))

def test_one_writer(runs):
    assert [json.loads(l)['epoch'] for l in (runs/'run2'/'metrics.jsonl').read_text().splitlines()] == [0, 1]
    assert sorted(p.name for p in (runs/'run2').iterdir()) == ['banks_rank0.pt', 'banks_rank1.pt', 'best.pth', 'config.json', 'curves.png', 'last.pth', 'metrics.jsonl']

def test_two_processes_match_one(runs):
    two, one = (torch.load(runs/f'run{n}'/'last.pth', weights_only=False) for n in (2, 1))
    assert max_diff(two['model'], one['model']) < 1e-5 and max_diff(two['loss'], one['loss']) < 1e-3
    r2, r1 = ([json.loads(l) for l in (runs/f'run{n}'/'metrics.jsonl').read_text().splitlines()] for n in (2, 1))
    assert [r['train_loss'] for r in r2] == pytest.approx([r['train_loss'] for r in r1], rel=1e-4)   # the mean over both processes' batches

def test_a_wrong_global_batch_is_caught(runs):
    "The tolerance can fail: the same run with another global batch is far outside it."
    torchrun(1, runs/'train.py', json.dumps(dict(CFG, lists=str(runs/'lists'), batch_size=2)), runs/'run_bs2', cwd=runs)
    other, one = (torch.load(runs/r/'last.pth', weights_only=False) for r in ('run_bs2', 'run1'))
    assert max_diff(other['model'], one['model']) > 1e-3

def test_resume_with_another_number_of_processes(runs):
    "One epoch with 1 process, then `syncdr train --resume` with 2: the same run as 2 epochs with 2 processes, reported once."
    torchrun(1, runs/'train.py', json.dumps(dict(CFG, lists=str(runs/'lists'), epochs=1)), runs/'run_r', cwd=runs)
    r = torchrun(2, '--no-python', 'syncdr', 'train', '--resume', runs/'run_r', '--epochs', '2', '--quiet', cwd=runs)
    assert r.stdout.count('resumed and finished') == 1
    resumed, straight = (torch.load(runs/d/'last.pth', weights_only=False) for d in ('run_r', 'run2'))
    assert max_diff(resumed['model'], straight['model']) < 1e-5 and max_diff(resumed['loss'], straight['loss']) < 1e-3
