"""A pure-Python reference of udt's feature hashing (featurizers/src/hash.h), so tests can
check exact feature ids instead of only "something came out"."""
M64 = (1 << 64) - 1
VALUE_SEED = 0x2545F4914F6CDD1D
TOKEN_SEED = 0x7F4A7C159E3779B9
SALT_SEED_MIX = 0x5EED5A175A17


def fmix64(k):
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & M64
    return k ^ (k >> 33)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def hash_bytes(data, seed):
    c1, c2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
    n = len(data)
    h = (seed ^ (n * 0x9E3779B97F4A7C15)) & M64
    i = 0
    while i + 8 <= n:
        k = int.from_bytes(data[i:i + 8], "little")
        k = rotl((k * c1) & M64, 31) * c2 & M64
        h ^= k
        h = (rotl(h, 27) * 5 + 0x52DCE729) & M64
        i += 8
    if i < n:
        k = int.from_bytes(data[i:], "little")
        k = rotl((k * c1) & M64, 31) * c2 & M64
        h ^= k
    return fmix64(h ^ n)


def hash_combine(a, b):
    return fmix64(a ^ ((fmix64(b) + 0x9E3779B97F4A7C15 + (a << 6) + (a >> 2)) & M64))


def reduce_to_dim(h, dim):
    return ((h >> 32) * dim) >> 32


def column_salt(name, seed=0):
    return hash_bytes(name.encode(), seed ^ SALT_SEED_MIX)


def categorical_id(column, value, dim, seed=0):
    return reduce_to_dim(hash_combine(column_salt(column, seed), hash_bytes(value.encode(), VALUE_SEED)), dim)


def text_unigram_id(column, token, dim, seed=0):
    return reduce_to_dim(hash_combine(column_salt(column, seed), hash_bytes(token.encode(), TOKEN_SEED)), dim)


def text_bigram_id(column, first, second, dim, seed=0):
    g = hash_combine(hash_bytes(first.encode(), TOKEN_SEED), hash_bytes(second.encode(), TOKEN_SEED))
    return reduce_to_dim(hash_combine(column_salt(column, seed), hash_combine(g, 2)), dim)
