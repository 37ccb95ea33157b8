/* Visitor log: reads the name with a too-large limit into a struct, overwriting is_admin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct visitor {
    char name[32];
    int is_admin;
};

/* Reads up to max-1 bytes, stopping at a newline, and NUL-terminates. */
static void read_line(char *buf, int max) {
    int i = 0;
    char c;
    while (i < max - 1 && read(0, &c, 1) == 1 && c != '\n')
        buf[i++] = c;
    buf[i] = 0;
}

static void print_flag(void) {
    char flag[128] = {0};
    FILE *f = fopen("flag.txt", "r");
    if (!f) {
        puts("[flag.txt not found: the flag is only on the server]");
        return;
    }
    if (fgets(flag, sizeof flag, f))
        printf("Here is your flag: %s\n", flag);
    fclose(f);
}

int main(void) {
    struct visitor v;
    setvbuf(stdout, NULL, _IONBF, 0);
    memset(&v, 0, sizeof v);
    v.is_admin = 0;

    puts("=== Visitor log ===");
    printf("Please enter your name: ");
    read_line(v.name, 64);
    printf("Welcome, %s!\n", v.name);
    if (v.is_admin) {
        puts("Admin access granted.");
        print_flag();
    } else {
        puts("Only admins may see the flag. Goodbye.");
    }
    exit(0);
}
