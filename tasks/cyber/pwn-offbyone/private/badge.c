/* Badge printer: read_name() writes its terminating NUL one byte past name[16], into level,
 * and level 0 is ADMIN. A name of exactly 16 characters therefore makes you admin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LEVEL_ADMIN = 0, LEVEL_STAFF = 1, LEVEL_VISITOR = 2 };
static const char *LEVELS[] = {"admin", "staff", "visitor"};

struct badge {
    char name[16];
    unsigned char level;
    unsigned char pad[7];
};

static int read_line(char *buf, int max) {
    int i = 0;
    char c;
    ssize_t r = 0;
    while (i < max - 1 && (r = read(0, &c, 1)) == 1 && c != '\n')
        buf[i++] = c;
    buf[i] = 0;
    return (r == 1 || i > 0) ? i : -1;
}

static void read_name(char *buf, int size) {
    int i;
    char c;
    for (i = 0; i < size; i++) {
        if (read(0, &c, 1) != 1 || c == '\n')
            break;
        buf[i] = c;
    }
    buf[i] = 0;
}

static const char *level_name(unsigned char l) {
    return l <= LEVEL_VISITOR ? LEVELS[l] : "unknown";
}

static void open_vault(void) {
    char flag[128] = {0};
    FILE *f = fopen("flag.txt", "r");
    if (!f) {
        puts("[flag.txt not found: the flag is only on the server]");
        return;
    }
    if (fgets(flag, sizeof flag, f))
        printf("The vault opens. Inside: %s\n", flag);
    fclose(f);
}

int main(void) {
    struct badge b;
    char line[32];
    setvbuf(stdout, NULL, _IONBF, 0);
    memset(&b, 0, sizeof b);
    strcpy(b.name, "guest");
    b.level = LEVEL_VISITOR;

    puts("=== Badge printer ===");
    for (;;) {
        printf("\n1) set name\n2) print badge\n3) open vault\n4) quit\n> ");
        int n = read_line(line, sizeof line);
        if (n < 0)
            break;
        if (n == 0)
            continue;
        switch (atoi(line)) {
        case 1:
            printf("Name (max %d chars): ", (int)sizeof b.name);
            read_name(b.name, sizeof b.name);
            printf("Name set to '%s'.\n", b.name);
            break;
        case 2:
            printf("+------------------------+\n| %-16s %5s |\n+------------------------+\n", b.name, level_name(b.level));
            break;
        case 3:
            if (b.level == LEVEL_ADMIN)
                open_vault();
            else
                printf("Access denied: the vault needs admin, your badge says %s.\n", level_name(b.level));
            break;
        case 4:
            puts("Bye.");
            return 0;
        default:
            puts("Unknown option.");
        }
    }
    return 0;
}
