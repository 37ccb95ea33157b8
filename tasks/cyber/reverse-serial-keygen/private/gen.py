# Writes private/activate.c: a serial XXXX-XXXX-XXXX-XXXX is valid when mix(group_k, k+1) == T[k];
# the flag is decrypted with a xorshift64 stream seeded by the serial (run once).
import os, random
FLAG = b"flag{write_the_keygen_b88d052be50d7b48}"
rng = random.Random(777)
G = [rng.randrange(0x1000, 0x10000) for _ in range(4)]
M = 0xffffffff
def mix(x, k):
    x ^= (k * 0x9e3779b9) & M; x = (x * 0x85ebca6b) & M; x ^= x >> 13; x = (x * 0xc2b2ae35) & M; x ^= x >> 16
    return x
T = [mix(g, k + 1) for k, g in enumerate(G)]
s = (G[0] << 48) | (G[1] << 32) | (G[2] << 16) | G[3]
ks = []
for _ in FLAG:
    s ^= (s << 13) & (2**64 - 1); s ^= s >> 7; s ^= (s << 17) & (2**64 - 1); ks.append(s & 0xff)
E = bytes(c ^ k for c, k in zip(FLAG, ks))
src = r'''#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint32_t T[4] = {%s};
static const unsigned char E[%d] = {%s};

static uint32_t mix(uint32_t x, uint32_t k) {
    x ^= k * 0x9e3779b9u;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(void) {
    char buf[64];
    uint32_t g[4];
    printf("Enter serial (XXXX-XXXX-XXXX-XXXX): ");
    fflush(stdout);
    if (!fgets(buf, sizeof buf, stdin)) return 1;
    buf[strcspn(buf, "\r\n")] = 0;
    if (strlen(buf) != 19) goto bad;
    for (int k = 0; k < 4; k++) {
        uint32_t v = 0;
        for (int j = 0; j < 4; j++) {
            int h = hexval(buf[k * 5 + j]);
            if (h < 0) goto bad;
            v = v << 4 | h;
        }
        if (k < 3 && buf[k * 5 + 4] != '-') goto bad;
        g[k] = v;
    }
    for (int k = 0; k < 4; k++)
        if (mix(g[k], k + 1) != T[k]) goto bad;
    uint64_t s = (uint64_t)g[0] << 48 | (uint64_t)g[1] << 32 | (uint64_t)g[2] << 16 | g[3];
    char out[sizeof E + 1];
    for (size_t i = 0; i < sizeof E; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        out[i] = E[i] ^ (unsigned char)s;
    }
    out[sizeof E] = 0;
    printf("Activated. Licence token: %%s\n", out);
    return 0;
bad:
    puts("Invalid serial.");
    return 1;
}
''' % (", ".join(f"0x{t:08x}u" for t in T), len(E), ", ".join(f"0x{b:02x}" for b in E))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "activate.c"), "w").write(src)
print("serial", "-".join(f"{g:04X}" for g in G))
