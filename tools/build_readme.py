"Execute nbs/index.ipynb and render it to README.md (nbdev-readme needs Quarto, which is not installable offline)."
import sys, os, re
from pathlib import Path
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def _src(cell): return cell.source if isinstance(cell.source, str) else ''.join(cell.source)
def _hidden(src): return any(l.strip().replace(' ', '') in ('#|hide', '#|include:false') for l in src.splitlines())

def _outputs(cell):
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': yield ''.join(o['text'])
        elif 'data' in o:
            d = o['data']
            if 'text/markdown' in d: yield ('MD', ''.join(d['text/markdown']))
            elif 'text/plain' in d: yield ''.join(d['text/plain'])

DOCS = 'https://syncdr.github.io/syncdr/'  # `[project.urls] Documentation` in pyproject.toml

def absolute_links(md:str) -> str:
    "Point the docs site's relative page links (`[x](core.html#y)`) at the published site, so they work on GitHub too."
    return re.sub(r'\]\((?![a-z]+:|#|/)([^)\s]+\.html[^)\s]*)\)', lambda m: f']({DOCS}{m.group(1)})', md)

def render(nb) -> str:
    parts = []
    for c in nb.cells:
        src = _src(c)
        if c.cell_type == 'markdown':
            lines = src.splitlines()
            if lines and lines[0].startswith('# '): parts.append(lines[0])
            if len(lines) > 1 and lines[1].startswith('> '): parts.append(lines[1]); lines = lines[2:]
            elif lines and lines[0].startswith('# '): lines = lines[1:]
            rest = '\n'.join(lines).strip()
            if rest: parts.append(rest)
        elif c.cell_type == 'code' and not _hidden(src):
            parts.append(f'```python\n{src.strip()}\n```')
            for o in _outputs(c):
                parts.append(o[1].strip() if isinstance(o, tuple) else f'```\n{o.rstrip()}\n```')
    return absolute_links('\n\n'.join(parts)) + '\n'

if __name__ == '__main__':
    root = Path(__file__).resolve().parents[1]
    nb_path = root/'nbs'/'index.ipynb'
    nb = read_nb(nb_path)
    if '--execute' in sys.argv:
        cwd = os.getcwd()
        try: CaptureShell().run_all(nb, exc_stop=True)
        finally: os.chdir(cwd)
        write_nb(nb, nb_path)
    (root/'README.md').write_text(render(nb))
