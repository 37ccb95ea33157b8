/* Echo service: the flag sits in a local buffer and the user's line is used as printf's format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void read_line(char *buf, int max) {
    int i = 0;
    char c;
    while (i < max - 1 && read(0, &c, 1) == 1 && c != '\n')
        buf[i++] = c;
    buf[i] = 0;
}

int main(void) {
    char secret[64];
    char line[128];
    setvbuf(stdout, NULL, _IONBF, 0);

    memset(secret, 0, sizeof secret);
    FILE *f = fopen("flag.txt", "r");
    if (f) {
        if (!fgets(secret, sizeof secret, f))
            strcpy(secret, "empty flag file");
        fclose(f);
    } else {
        strcpy(secret, "no flag.txt here: the flag is only on the server");
    }
    secret[strcspn(secret, "\n")] = 0;

    puts("Echo service v1. The flag is loaded, but you will never see it.");
    printf("Say something: ");
    read_line(line, sizeof line);
    printf("You said: ");
    printf(line);
    printf("\nBye.\n");
    return 0;
}
