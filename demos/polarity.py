"""Sentiment polarity on IMDB + Rotten Tomatoes reviews (binary).

    python demos/polarity.py --data DIR

Prints test accuracy, training time and single-row latency; exits 1 below 0.87 accuracy.
"""
from _text import run

if __name__ == "__main__":
    run("IMDB/RT polarity", ("text", "imdb_rt.csv"), 0.87, __doc__)
