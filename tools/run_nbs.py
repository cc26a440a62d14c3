#!/usr/bin/env python3
"""Execute notebooks in place and keep their outputs, so the docs show tables, plots and image grids.

    python tools/run_nbs.py nbs/05_metrics.ipynb            # one notebook
    python tools/run_nbs.py nbs --flags slow                # every notebook, `#| slow` cells included

Cells marked `#| eval: false`, and cells carrying a flag of `tst_flags` (`slow`, `cuda`) that is not
passed in `--flags`, are not run: they keep the outputs they already have (e.g. from a GPU machine).
Each notebook runs in a fresh shell with its own folder as working directory, like `nbdev-test`.
Run `nbdev-clean` afterwards (it keeps outputs and drops execution metadata).
"""
import argparse, os, sys
from pathlib import Path
from nbdev.process import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.config import get_config
from nbdev.test import _skip_cell  # the very predicate `nbdev-test` uses

def run_notebook(path:Path, flags:set=frozenset()) -> bool:
    "Execute `path` in place; True when no cell raised."
    nb = read_nb(path)
    for c in nb.cells: c.directives_ = c.directives  # what `_skip_cell` reads (NBProcessor sets it in nbdev-test)
    skip = _skip_cell(nb, get_config().tst_flags.split(), list(flags))
    shell, cwd = CaptureShell(), os.getcwd()
    os.chdir(path.parent)
    try: shell.run_all(nb, exc_stop=True, preproc=skip)
    except Exception as e: print(f'{path}: {type(e).__name__}: {e}', file=sys.stderr); return False
    finally: os.chdir(cwd)
    write_nb(nb, path)
    return True

def notebooks(paths):
    for p in map(Path, paths):
        if p.is_dir(): yield from sorted(q for q in p.rglob('*.ipynb') if not any(s.startswith(('.', '_')) for s in q.relative_to(p).parts))
        else: yield p

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('paths', nargs='+', help='notebooks or folders')
    ap.add_argument('--flags', default='', help='space-separated tst_flags whose cells also run (e.g. "slow")')
    a = ap.parse_args()
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    ok = all([run_notebook(p.resolve(), set(a.flags.split())) for p in notebooks(a.paths)])
    sys.exit(0 if ok else 1)
