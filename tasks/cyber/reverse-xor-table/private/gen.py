# Writes private/checker.c: the flag is stored as enc[i] = flag[i] ^ ((0x5a + 7*i) & 0xff) (run once).
import os
FLAG = b"flag{rolling_xor_keys_918580390f13ec67}"
enc = bytes(c ^ ((0x5a + 7 * i) & 0xff) for i, c in enumerate(FLAG))
src = r'''#include <stdio.h>
#include <string.h>

#define N %d
static const unsigned char table[N] = {%s};

static int check(const char *s) {
    if (strlen(s) != N) return 0;
    unsigned char k = 0x5a;
    int bad = 0;
    for (int i = 0; i < N; i++) {
        bad |= ((unsigned char)s[i] ^ k) != table[i];
        k += 7;
    }
    return !bad;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %%s <key>\n", argv[0]);
        return 2;
    }
    if (check(argv[1])) {
        puts("Correct: the key you entered is the flag.");
        return 0;
    }
    puts("Nope.");
    return 1;
}
''' % (len(enc), ", ".join(f"0x{b:02x}" for b in enc))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "checker.c"), "w").write(src)
