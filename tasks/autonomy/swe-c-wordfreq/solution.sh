#!/bin/bash
# Reference solution: fix the Makefile (tab, missing object), the rehash index, the off-by-one
# in the word buffer, and the tie order.
set -e
python3 - <<'PY'
def edit(path, old, new):
    s = open(path).read()
    assert old in s, (path, old)
    open(path, "w").write(s.replace(old, new))

edit("Makefile", "OBJS = src/main.o\n", "OBJS = src/main.o src/table.o\n")
edit("Makefile", "        $(CC) $(CFLAGS) -o $@ $(OBJS)", "\t$(CC) $(CFLAGS) -o $@ $(OBJS)")
edit("src/table.c", "size_t j = hash(e->word) & (t->cap - 1);", "size_t j = hash(e->word) & (ncap - 1);")
edit("src/main.c", "if (len >= *cap) {", "if (len + 1 >= *cap) {")
edit("src/main.c", "return strcmp(b->word, a->word);", "return strcmp(a->word, b->word);")
PY
make clean >/dev/null
make
make test
