# Writes private/gatekeeper.c with the flag XOR-encoded under the (plainly stored) password (run once).
import os
FLAG = b"flag{strings_is_a_good_start_80faf5c416c7b08b}"
PW = b"Lantern-on-the-hill-77"
enc = bytes(c ^ PW[i % len(PW)] for i, c in enumerate(FLAG))
src = r'''#include <stdio.h>
#include <string.h>

static const unsigned char blob[] = {%s};

int main(void) {
    char line[128];
    printf("gatekeeper v1 -- password: ");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    line[strcspn(line, "\r\n")] = 0;
    if (strcmp(line, "%s") != 0) {
        puts("wrong password");
        return 1;
    }
    size_t n = strlen(line);
    char out[sizeof blob + 1];
    for (size_t i = 0; i < sizeof blob; i++) out[i] = blob[i] ^ line[i %% n];
    out[sizeof blob] = 0;
    printf("welcome! your flag: %%s\n", out);
    return 0;
}
''' % (", ".join(f"0x{b:02x}" for b in enc), PW.decode())
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gatekeeper.c"), "w").write(src)
