/* Notebook: logout frees the session but keeps the pointer (use after free). A note whose data
 * has the session's chunk size (25..40 bytes -> 0x30 chunk) gets the freed session back from the
 * tcache; its bytes 24..31 become session->greet, which "greet" then calls: point it at
 * admin_console(). Deterministic with glibc's tcache (LIFO). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct session {
    char user[24];
    void (*greet)(struct session *);
};

struct note {
    size_t len;
    char *data;
};

#define MAX_NOTES 8
static struct session *cur;
static struct note *notes[MAX_NOTES];

static int read_line(char *buf, int max) {
    int i = 0;
    char c;
    ssize_t r = 0;
    while (i < max - 1 && (r = read(0, &c, 1)) == 1 && c != '\n')
        buf[i++] = c;
    buf[i] = 0;
    return (r == 1 || i > 0) ? i : -1;
}

static void read_exact(char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(0, buf + got, n - got);
        if (r <= 0)
            exit(1);
        got += r;
    }
}

static long read_number(void) {
    char line[32];
    if (read_line(line, sizeof line) < 0)
        exit(0);
    return strtol(line, NULL, 10);
}

__attribute__((used, noinline)) void admin_console(struct session *s) {
    char flag[128] = {0};
    (void)s;
    FILE *f = fopen("flag.txt", "r");
    if (!f) {
        puts("[flag.txt not found: the flag is only on the server]");
        exit(1);
    }
    if (fgets(flag, sizeof flag, f))
        printf("admin console> %s\n", flag);
    fclose(f);
    exit(0);
}

static void default_greet(struct session *s) {
    printf("Hello, %s! Have a productive day.\n", s->user);
}

static void do_login(void) {
    char name[64];
    printf("Username: ");
    if (read_line(name, sizeof name) < 0)
        exit(0);
    if (strcmp(name, "admin") == 0) {
        puts("The admin account is disabled.");
        return;
    }
    cur = malloc(sizeof *cur);
    memset(cur, 0, sizeof *cur);
    strncpy(cur->user, name, sizeof cur->user - 1);
    cur->greet = default_greet;
    printf("Logged in as %s.\n", cur->user);
}

static void do_logout(void) {
    if (!cur) {
        puts("Not logged in.");
        return;
    }
    free(cur);
    puts("Logged out.");
}

static void do_greet(void) {
    if (!cur) {
        puts("Not logged in.");
        return;
    }
    cur->greet(cur);
}

static void do_new_note(void) {
    int slot;
    for (slot = 0; slot < MAX_NOTES && notes[slot]; slot++)
        ;
    if (slot == MAX_NOTES) {
        puts("Notebook full.");
        return;
    }
    printf("Note length (1-256): ");
    long len = read_number();
    if (len < 1 || len > 256) {
        puts("Bad length.");
        return;
    }
    struct note *n = malloc(sizeof *n);
    n->len = len;
    n->data = malloc(len);
    printf("Content (%ld bytes): ", len);
    read_exact(n->data, len);
    notes[slot] = n;
    printf("Saved note #%d.\n", slot);
}

static void do_show(void) {
    for (int i = 0; i < MAX_NOTES; i++) {
        if (!notes[i])
            continue;
        printf("#%d (%zu bytes): ", i, notes[i]->len);
        fwrite(notes[i]->data, 1, notes[i]->len, stdout);
        putchar('\n');
    }
}

static void do_delete(void) {
    printf("Note number: ");
    long i = read_number();
    if (i < 0 || i >= MAX_NOTES || !notes[i]) {
        puts("No such note.");
        return;
    }
    free(notes[i]->data);
    free(notes[i]);
    notes[i] = NULL;
    puts("Deleted.");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    puts("=== Notebook 0.9 ===");
    for (;;) {
        printf("\n1) log in\n2) log out\n3) greet me\n4) new note\n5) show notes\n6) delete note\n7) quit\n> ");
        switch (read_number()) {
        case 1: do_login(); break;
        case 2: do_logout(); break;
        case 3: do_greet(); break;
        case 4: do_new_note(); break;
        case 5: do_show(); break;
        case 6: do_delete(); break;
        case 7: puts("Bye."); return 0;
        default: puts("Unknown option.");
        }
    }
}
