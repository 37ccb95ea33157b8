#include <stdio.h>
#include <string.h>

#define N 39
static const unsigned char table[N] = {0x3c, 0x0d, 0x09, 0x08, 0x0d, 0x0f, 0xeb, 0xe7, 0xfe, 0xf0, 0xce, 0xc0, 0xf1, 0xcd, 0xd3, 0xb1, 0x95, 0xba, 0xbd, 0xa6, 0x95, 0xb2, 0xcd, 0xca, 0x3a, 0x3c, 0x28, 0x27, 0x2d, 0x1c, 0x1c, 0x55, 0x0b, 0x72, 0x2d, 0x2c, 0x60, 0x6a, 0x19};

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
        fprintf(stderr, "usage: %s <key>\n", argv[0]);
        return 2;
    }
    if (check(argv[1])) {
        puts("Correct: the key you entered is the flag.");
        return 0;
    }
    puts("Nope.");
    return 1;
}
