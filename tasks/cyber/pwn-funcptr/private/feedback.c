/* Feedback box: read() of 96 bytes into a 64-byte buffer that sits before a function pointer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct feedback {
    char text[64];
    void (*on_done)(void);
};

static void say_thanks(void) {
    puts("Thank you for your feedback! A human will read it eventually.");
}

__attribute__((used, noinline)) void maintenance_dump(void) {
    char flag[128] = {0};
    FILE *f = fopen("flag.txt", "r");
    if (!f) {
        puts("[flag.txt not found: the flag is only on the server]");
        exit(1);
    }
    if (fgets(flag, sizeof flag, f))
        printf("maintenance: %s\n", flag);
    fclose(f);
    exit(0);
}

int main(void) {
    struct feedback fb;
    setvbuf(stdout, NULL, _IONBF, 0);
    memset(&fb, 0, sizeof fb);
    fb.on_done = say_thanks;

    puts("=== Feedback box ===");
    puts("Leave your feedback (up to 64 characters):");
    ssize_t n = read(0, fb.text, 96);
    if (n <= 0)
        return 1;
    printf("Received %zd bytes.\n", n);
    fb.on_done();
    return 0;
}
