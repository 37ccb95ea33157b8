#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) { perror("wordfreq"); exit(1); }
    return p;
}

static size_t hash(const char *s) {
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ULL; }
    return h;
}

struct table *table_new(void) {
    struct table *t = xmalloc(sizeof *t);
    t->cap = 64;
    t->size = 0;
    t->buckets = calloc(t->cap, sizeof *t->buckets);
    if (!t->buckets) { perror("wordfreq"); exit(1); }
    return t;
}

static void grow(struct table *t) {
    size_t ncap = t->cap * 2;
    struct entry **nb = calloc(ncap, sizeof *nb);
    if (!nb) { perror("wordfreq"); exit(1); }
    for (size_t i = 0; i < t->cap; i++) {
        struct entry *e = t->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = hash(e->word) & (t->cap - 1);
            e->next = nb[j];
            nb[j] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->cap = ncap;
}

void table_add(struct table *t, const char *word) {
    size_t i = hash(word) & (t->cap - 1);
    for (struct entry *e = t->buckets[i]; e; e = e->next) {
        if (strcmp(e->word, word) == 0) { e->count++; return; }
    }
    struct entry *e = xmalloc(sizeof *e);
    e->word = xmalloc(strlen(word) + 1);
    strcpy(e->word, word);
    e->count = 1;
    e->next = t->buckets[i];
    t->buckets[i] = e;
    t->size++;
    if (t->size * 4 > t->cap * 3) grow(t);
}

struct entry **table_entries(const struct table *t) {
    struct entry **out = xmalloc((t->size ? t->size : 1) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        for (struct entry *e = t->buckets[i]; e; e = e->next) out[k++] = e;
    return out;
}

void table_free(struct table *t) {
    for (size_t i = 0; i < t->cap; i++) {
        struct entry *e = t->buckets[i];
        while (e) { struct entry *next = e->next; free(e->word); free(e); e = next; }
    }
    free(t->buckets);
    free(t);
}
