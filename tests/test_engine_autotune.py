"""The K/L/R autotuning rule of the BOLT paper, section 4.2."""
import math

import pytest

from udt.engine import Network, autotune_lsh


def paper_rule(s, d, c1=1.0, c2=0.1, max_l=256):
    """Independent restatement: try K = 1, 2, ...; L = round(c1 s 2^K); keep the last (K, L)
    with L <= max_l and K L + s d <= c2 d."""
    best = None
    for k in range(1, 31):
        l = round(c1 * s * 2 ** k)
        if l < 1:
            continue
        if l > max_l:
            break
        if k * l + s * d <= c2 * d:
            best = (k, l)
    return best


CASES = [  # (sparsity, dim, expected K, expected L, expected R) computed by hand
    (0.005, 670_000, 15, 164, 41),   # Amazon-670K at the paper's sparsity
    (0.01, 200_000, 14, 164, 25),
    (0.02, 63_000, 13, 164, 16),
    (0.05, 10_000, 9, 26, 40),      # K=10 would cost 10*51 + 500 > 1000
    (0.001, 1_000_000, 17, 131, 16),
]


@pytest.mark.parametrize("s,d,k,l,r", CASES)
def test_autotune_matches_hand_computed_cases(s, d, k, l, r):
    p = autotune_lsh(s, d)
    assert (p["K"], p["L"], p["R"]) == (k, l, r)
    assert p["within_budget"]


@pytest.mark.parametrize("s", [0.001, 0.003, 0.005, 0.01, 0.02, 0.05, 0.08])
@pytest.mark.parametrize("d", [5_000, 20_000, 100_000, 670_000, 3_000_000])
def test_autotune_follows_the_rule(s, d):
    expected = paper_rule(s, d)
    p = autotune_lsh(s, d)
    if expected is None:
        assert not p["within_budget"]
        return
    assert (p["K"], p["L"]) == expected
    k, l = expected
    assert l <= 256 and k * l + s * d <= 0.1 * d
    # R = twice the expected bucket load d / 2^K
    assert p["R"] == max(2, math.ceil(2 * d / 2 ** k))


def test_autotune_outside_budget_still_gives_usable_tables():
    # s > c2 cannot meet K L + s d <= c2 d: fall back to the largest L <= 256.
    p = autotune_lsh(0.3, 50_000)
    assert not p["within_budget"]
    assert 1 <= p["L"] <= 256 and p["K"] >= 1


def test_network_uses_autotuned_parameters_unless_overridden():
    net = Network(1000, 32, 20_000, output_sparsity=0.02)
    p = autotune_lsh(0.02, 20_000)
    assert (net.lsh_params["K"], net.lsh_params["L"], net.lsh_params["R"]) == (p["K"], p["L"], p["R"])
    net = Network(1000, 32, 20_000, output_sparsity=0.02, lsh_k=6, lsh_l=10, lsh_r=7)
    assert (net.lsh_params["K"], net.lsh_params["L"], net.lsh_params["R"]) == (6, 10, 7)
    assert net.active_neurons == 400


def test_dense_network_has_no_lsh():
    net = Network(100, 16, 50)
    assert net.lsh_params is None and net.output_sparsity == 1.0 and net.active_neurons == 50
