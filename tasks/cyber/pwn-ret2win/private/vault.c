/* Vault door: read() of 256 bytes into a 64-byte stack buffer; return into unlock_vault(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((used, noinline)) void unlock_vault(void) {
    char flag[128] = {0};
    FILE *f = fopen("flag.txt", "r");
    if (!f) {
        puts("[flag.txt not found: the flag is only on the server]");
        exit(1);
    }
    if (fgets(flag, sizeof flag, f))
        printf("Vault unlocked: %s\n", flag);
    fclose(f);
    exit(0);
}

__attribute__((noinline)) static void check_phrase(void) {
    char phrase[64];
    puts("Speak the access phrase:");
    ssize_t n = read(0, phrase, 256);
    if (n <= 0)
        exit(1);
    if (n >= 11 && memcmp(phrase, "open sesame", 11) == 0)
        puts("That phrase was retired in 1999.");
    else
        puts("Wrong phrase. The vault stays shut.");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    puts("=== Vault door ===");
    check_phrase();
    puts("Goodbye.");
    return 0;
}
