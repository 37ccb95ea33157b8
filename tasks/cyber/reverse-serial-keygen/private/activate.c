#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint32_t T[4] = {0x6534a546u, 0xc04a6a35u, 0xc6a1ccddu, 0x313cd4f6u};
static const unsigned char E[39] = {0xe6, 0x57, 0xf8, 0x77, 0x5f, 0xdb, 0x69, 0xd0, 0x92, 0x5e, 0x56, 0xa7, 0x94, 0xf4, 0x87, 0x8c, 0xd5, 0x38, 0x50, 0x8e, 0xc6, 0x20, 0x6d, 0x03, 0xbf, 0x66, 0x8c, 0xba, 0xc0, 0x03, 0x3e, 0x14, 0x55, 0xf9, 0x51, 0xcc, 0x4f, 0x7d, 0x68};

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
    printf("Activated. Licence token: %s\n", out);
    return 0;
bad:
    puts("Invalid serial.");
    return 1;
}
