"""The fault table: every bad input ends in one clear line naming the culprit, a non-zero exit, no partial
outputs, and pre-existing files untouched (checked by their SHA-256). The rows call the console script's entry
point in-process (`syncdr.cli.main`): a subprocess per row would spend seconds importing."""
import hashlib, shutil
from pathlib import Path
import pytest
from syncdr.cli import main
from conftest import tiny_lists

TINY = ['--arch', 'tiny', '--dim', '16', '--batch-size', '4', '--k', '4', '--resize', '36', '--crop', '32', '--cpu', '--quiet', '--epochs', '1']


@pytest.fixture(scope='module')
def clean(tmp_path_factory):
    "A tiny two-domain workspace (images and lists) every row copies and then breaks."
    tmp = tmp_path_factory.mktemp('faults')
    tiny_lists(tmp)
    return tmp


def snapshot(root:Path) -> dict:
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob('*')) if p.is_file()}


def _empty(ws, name): (ws/'lists'/name).write_text('')
def _one_class(ws, name):
    lines = (ws/'lists'/name).read_text().splitlines()
    (ws/'lists'/name).write_text(''.join(l + '\n' for l in lines if l.endswith(' 0')))
def _corrupt_first(ws, name):
    first = (ws/'lists'/name).read_text().split()[0]
    p = Path(first) if Path(first).is_absolute() else ws/'lists'/first
    p.write_bytes(p.read_bytes()[:40])  # a truncated PNG
    return p
def _drop_class_from_gallery(ws, name):
    lines = (ws/'lists'/name).read_text().splitlines()
    (ws/'lists'/name).write_text(''.join(l + '\n' for l in lines if not l.endswith(' 1')))

TRAIN = ['train', '--lists', '{ws}/lists', '--source', 'clipart', '--target', 'painting', '--method', 'cds', '--out', '{ws}/run', *TINY]
EVAL = ['eval', '--arch', 'tiny', '--zero-shot', '--lists', '{ws}/lists', '--source', 'clipart', '--target', 'painting',
        '--resize', '36', '--crop', '32', '--cpu', '--out', '{ws}/ev']

ROWS = {  # name: (break the workspace, command, message fragment naming the culprit)
    'empty train list': (lambda ws: _empty(ws, 'clipart_train_cls_disjoint1.txt'), TRAIN, 'clipart_train_cls_disjoint1.txt'),
    'empty val list': (lambda ws: _empty(ws, 'painting_val.txt'), TRAIN, 'painting_val.txt'),
    'empty eval list': (lambda ws: _empty(ws, 'clipart_test.txt'), EVAL, 'clipart_test.txt'),
    'empty list to split disjoint': (lambda ws: _empty(ws, 'clipart_train.txt'), ['split', 'disjoint', '{ws}/lists/clipart_train.txt', '--out', '{ws}/halves'], 'clipart_train.txt'),
    'empty domain to split tree': (lambda ws: (ws/'data'/'sketch').mkdir(), ['split', 'tree', '{ws}/data', '--domains', 'sketch', '--out', '{ws}/lists2'], 'sketch'),
    'one class to split disjoint': (lambda ws: _one_class(ws, 'clipart_train.txt'), ['split', 'disjoint', '{ws}/lists/clipart_train.txt', '--out', '{ws}/halves'], 'clipart_train.txt'),
    'one class to train': (lambda ws: _one_class(ws, 'clipart_train_cls_disjoint1.txt'), TRAIN, 'clipart_train_cls_disjoint1.txt'),
    'corrupt image to train': (lambda ws: _corrupt_first(ws, 'clipart_train_cls_disjoint1.txt'), TRAIN, 'cannot read image'),
    'corrupt image to split tree --verify': (lambda ws: _corrupt_first(ws, 'clipart_train.txt'), ['split', 'tree', '{ws}/data', '--domains', 'clipart', '--verify', '--out', '{ws}/lists2'], 'clipart'),
    'unwritable --out (split tree)': (lambda ws: (ws/'file').write_text('x'), ['split', 'tree', '{ws}/data', '--domains', 'clipart', '--out', '{ws}/file/lists'], 'is a file, not a folder'),
    'unwritable --out (train)': (lambda ws: None, [*TRAIN[:-len(TINY)-2], '--out', '/sys/syncdr_run', *TINY], '/sys/syncdr_run is not writable'),
    'unwritable --out (eval)': (lambda ws: None, [*EVAL[:-2], '--out', '/sys/syncdr_eval'], '/sys/syncdr_eval is not writable'),
    'unwritable --out (cut train)': (lambda ws: None, ['cut', 'train', '--lists', '{ws}/lists', '--source', 'clipart', '--target', 'painting', '--out', '/sys/syncdr_cut'], '/sys/syncdr_cut is not writable'),
    'unwritable --out (translate)': (lambda ws: None, ['translate', '--method', 'identity', '--lists', '{ws}/lists', '--source', 'clipart', '--target', 'painting', '--out', '/sys/syncdr_syn'], '/sys/syncdr_syn is not writable'),
}


def run_main(args, capsys) -> tuple[int, str, str]:
    "`(exit code, stdout, stderr)` of `syncdr *args`, run through the console script's entry point."
    capsys.readouterr()
    try: code = main([str(a) for a in args])
    except SystemExit as e: code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize('row', list(ROWS))
def test_fault_table(row, clean, tmp_path, capsys):
    ws = tmp_path/'ws'
    shutil.copytree(clean, ws)
    breaks, cmd, fragment = ROWS[row]
    breaks(ws)
    before = snapshot(ws)
    code, out, err = run_main([str(a).format(ws=ws) for a in cmd], capsys)
    assert code != 0, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err
    assert snapshot(ws) == before  # nothing written, nothing changed


def test_tabs_and_trailing_spaces_are_accepted(clean, tmp_path, capsys):
    ws = tmp_path/'ws'
    shutil.copytree(clean, ws)
    lst = ws/'lists'/'clipart_train.txt'
    lines = lst.read_text().splitlines()
    lst.write_text(''.join(l.replace(' ', '\t') + ('  \n' if i % 2 else '\n') for i, l in enumerate(lines)))
    assert run_main(['split', 'disjoint', lst, '--out', ws/'halves'], capsys)[0] == 0
    assert sum(len((ws/'halves'/f'clipart_train_cls_disjoint{k}.txt').read_text().splitlines()) for k in (1, 2)) == len(lines)


def test_malformed_line_shows_the_raw_line(clean, tmp_path, capsys):
    ws = tmp_path/'ws'
    shutil.copytree(clean, ws)
    lst = ws/'lists'/'clipart_train.txt'
    lst.write_text(lst.read_text() + 'images/x.png label\n')
    code, _, err = run_main(['split', 'disjoint', lst, '--out', ws/'halves'], capsys)
    assert code == 1 and "'images/x.png label'" in err and 'clipart_train.txt' in err, err
    assert not (ws/'halves').exists()


def test_gallery_without_some_query_classes_is_reported(clean, tmp_path, capsys):
    ws = tmp_path/'ws'
    shutil.copytree(clean, ws)
    _drop_class_from_gallery(ws, 'painting_test.txt')
    with pytest.warns(UserWarning, match='queries skipped'):  # warned about ...
        code, out, _ = run_main([str(a).format(ws=ws) for a in EVAL], capsys)
    assert code == 0 and 'queries skipped: their class has no image in the gallery' in out  # ... and said in the report
