#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static int is_word_byte(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'';
}

/* Reads the next word of f into *buf (grown as needed); returns its length, or -1 at EOF. */
static long next_word(FILE *f, char **buf, size_t *cap) {
    int c;
    while ((c = getc(f)) != EOF && !is_word_byte(c)) {}
    if (c == EOF) return -1;
    size_t len = 0;
    do {
        if (len >= *cap) {
            *cap *= 2;
            *buf = realloc(*buf, *cap);
            if (!*buf) { perror("wordfreq"); exit(1); }
        }
        (*buf)[len++] = (char)tolower(c);
    } while ((c = getc(f)) != EOF && is_word_byte(c));
    (*buf)[len] = '\0';
    return (long)len;
}

static int by_count(const void *pa, const void *pb) {
    const struct entry *a = *(const struct entry *const *)pa;
    const struct entry *b = *(const struct entry *const *)pb;
    if (a->count != b->count) return a->count < b->count ? 1 : -1;
    return strcmp(b->word, a->word);
}

static void usage(void) {
    fprintf(stderr, "usage: wordfreq [-n N] < text\n");
    exit(2);
}

int main(int argc, char **argv) {
    long n = 10;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || n < 0) usage();
        } else {
            usage();
        }
    }
    struct table *t = table_new();
    size_t cap = 16;
    char *buf = malloc(cap);
    if (!buf) { perror("wordfreq"); return 1; }
    while (next_word(stdin, &buf, &cap) >= 0) table_add(t, buf);
    free(buf);
    struct entry **all = table_entries(t);
    qsort(all, t->size, sizeof *all, by_count);
    size_t limit = (n == 0 || (size_t)n > t->size) ? t->size : (size_t)n;
    for (size_t i = 0; i < limit; i++) printf("%ld %s\n", all[i]->count, all[i]->word);
    free(all);
    table_free(t);
    return 0;
}
