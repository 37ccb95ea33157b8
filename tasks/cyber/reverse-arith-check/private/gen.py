# Writes private/validator.c: every prefix of the flag must hash (FNV-1a with a tweaked basis)
# to a stored 32-bit value (run once).
import os
FLAG = b"flag{one_byte_at_a_time_6deec1192241d233}"
BASIS, PRIME = 0x811c9dc5 ^ 0x00c0ffee, 0x01000193
hs, h = [], BASIS
for c in FLAG:
    h = ((h ^ c) * PRIME) & 0xffffffff; hs.append(h)
src = r'''#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N %d
static const uint32_t H[N] = {%s};

int main(void) {
    char buf[256];
    printf("licence code: ");
    fflush(stdout);
    if (!fgets(buf, sizeof buf, stdin)) return 1;
    buf[strcspn(buf, "\r\n")] = 0;
    int ok = strlen(buf) == N;
    uint32_t h = 0x%08xu;
    for (int i = 0; ok && i < N; i++) {
        h ^= (unsigned char)buf[i];
        h *= 0x%08xu;
        if (h != H[i]) ok = 0;
    }
    puts(ok ? "valid - that code is the flag" : "invalid");
    return !ok;
}
''' % (len(hs), ", ".join(f"0x{x:08x}u" for x in hs), BASIS, PRIME)
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "validator.c"), "w").write(src)
