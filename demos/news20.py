"""Text classification on 20 Newsgroups (20 classes, by-date split).

    python demos/news20.py --data DIR [--curve news20_curve.png]

Prints test accuracy, training time and single-row latency; exits 1 below 0.845 accuracy.
"""
import sys

from _text import run

if __name__ == "__main__":
    curve = None
    if "--curve" in sys.argv:
        at = sys.argv.index("--curve")
        curve = sys.argv[at + 1]
        del sys.argv[at:at + 2]
    run("20 Newsgroups", ("text", "20newsgroups.csv"), 0.845, __doc__, learning_curve_png=curve)
