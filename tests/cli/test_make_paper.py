#!/usr/bin/env python3
"""scripts/make-paper (papers/README.md): the committed paper is what the committed results give
(`--check` regenerates it from them: every placeholder filled, every figure drawn, every claim
with a verdict, README.md and values.json unchanged), and each way a paper can drift from its
results is caught: an unknown placeholder, a number typed into the text, a figure that is not
drawn, a citation missing from the .bib, a hand edit of the generated README.md, a claim without
a row, a statement the values no longer support, a malformed placeholder, a committed figure
missing, a stale values.json; and the claims' verdict rules give each verdict they can.

usage: test_make_paper.py SOURCE_DIR PYTHON
"""
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE, PYTHON = sys.argv[1], sys.argv[2]
PAPER = os.path.join(SOURCE, "papers", "griffin-vs-transformer")
MAKE = [PYTHON, os.path.join(SOURCE, "scripts", "make_paper.py")]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(*args):
    return subprocess.run([*MAKE, *args], capture_output=True, text=True, timeout=600)


def edited(tmp, name, edit):
    """A copy of the paper, built in place, with `edit` applied to one of its files."""
    paper = os.path.join(tmp, name)
    shutil.copytree(PAPER, paper)
    r = run("--paper", paper)
    assert r.returncode == 0, r.stderr
    edit(paper)
    return paper


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def replace(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


def main():
    r = subprocess.run([os.path.join(SOURCE, "scripts", "make-paper"), "--help"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and "--check" in r.stdout, "scripts/make-paper runs make_paper.py")
    r = run("--check")
    check(r.returncode == 0, "make-paper --check: the committed paper is what the committed "
          "results give" + ("" if r.returncode == 0 else r.stderr[-1500:]))
    with open(os.path.join(PAPER, "README.md")) as f:
        text = f.read()
    check("{{" not in text and "[@" not in text, "no placeholder or raw citation in README.md")
    for name in ("memory", "latency", "budget", "recall_distance", "mqar", "kernels"):
        check(f"figures/{name}.png" in text, f"the paper shows figures/{name}.png")

    template = "paper.md.in"
    cases = [
        ("placeholder", lambda p: append(os.path.join(p, template), "\n{{no_such_value}}\n"),
         "unfilled placeholder {{no_such_value}}"),
        ("typed", lambda p: append(os.path.join(p, template), "\nIt is 3.5 times faster.\n"),
         "a number typed by hand, line"),
        ("typed-ratio", lambda p: append(os.path.join(p, template), "\nIt is 4.6x faster.\n"),
         ": 4.6x"),
        ("typed-length", lambda p: append(os.path.join(p, template), "\nAt 128k tokens.\n"),
         ": 128k"),
        ("typed-code", lambda p: append(os.path.join(p, template), "\nIt took `35` ms.\n"),
         "`35`"),
        ("malformed", lambda p: append(os.path.join(p, template), "\n{{Bad-name}}\n"),
         "'{{Bad-name}}' left in the text"),
        ("committed-figure", lambda p: os.remove(os.path.join(p, "figures", "memory.png")),
         "figures/memory.png is missing or empty"),
        ("stale-values", lambda p: replace(os.path.join(p, "values.json"), '"value": 2048',
                                           '"value": 2049'),
         "values.json differs from what the results give"),
        ("figure", lambda p: append(os.path.join(p, template), "\n![x](figures/none.png)\n"),
         "figure figures/none.png is referenced but was not drawn"),
        ("citation", lambda p: append(os.path.join(p, template), "\nAs shown [@nobody2099].\n"),
         "citation @nobody2099 is not in papers/references.bib"),
        ("stale", lambda p: replace(os.path.join(p, "README.md"), "RecurrentGemma-2B",
                                    "RecurrentGemma-2b"),
         "differs from what the results give"),
        ("claim", lambda p: append(os.path.join(p, "paper.py"),
                                   "\nREQUIRED_CLAIMS = REQUIRED_CLAIMS + ['X-1']\n"),
         "claim X-1 has no row in the claims table"),
        ("expectation", lambda p: append(os.path.join(p, "paper.py"), (
            "\n_collect = collect\n\n\ndef collect(results):\n    v = _collect(results)\n"
            "    v.expect(v['rg_decode_spread_pct'] > 50, 'the step doubles with depth')\n"
            "    return v\n")),
         "the text says 'the step doubles with depth', which the results no longer support"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, edit, message in cases:
            paper = edited(tmp, name, edit)
            r = run("--check", "--paper", paper)
            check(r.returncode != 0 and message in r.stderr,
                  f"{name}: --check fails with {message!r}" +
                  ("" if r.returncode != 0 and message in r.stderr else f" ({r.stderr[-600:]})"))
    verdict_rules()
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


def verdict_rules():
    """The rules that decide a claim's verdict from the values, one case per verdict."""
    sys.path[:0] = [os.path.join(SOURCE, "scripts"), PAPER]
    import paper
    check(paper.verdict_hawk_fails_as_pairs_grow(0.07, 0.66) == "reproduces" and
          paper.verdict_hawk_fails_as_pairs_grow(0.07, 0.2) == "does not" and
          paper.verdict_hawk_fails_as_pairs_grow(0.9, 0.9) == "does not",
          "G-6: Hawk good with few pairs and failing with many reproduces; failing or solving both "
          "does not")
    check(paper.verdict_latency_gap_grows(True, True) == "reproduces" and
          paper.verdict_latency_gap_grows(True, False) == "partly" and
          paper.verdict_latency_gap_grows(False, True) == "does not",
          "G-1: a gap that grows with depth reproduces, one that only exists at depth is partly")
    check(paper.verdict_attention_solves_every_width(3, 3) == "reproduces" and
          paper.verdict_attention_solves_every_width(1, 3) == "partly" and
          paper.verdict_attention_solves_every_width(0, 3) == "does not",
          "Z-1: solved at every width, at some, at none")


if __name__ == "__main__":
    main()
