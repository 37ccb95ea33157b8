# Writes private/vm.c: a tiny byte-code VM whose (obfuscated) program accepts exactly the flag (run once).
# Program bytes are stored as code[j] ^ ((j*13 + 0x5c) & 0xff); the decoded program starts with "VM1".
import os, random
FLAG = b"flag{a_machine_inside_the_machine_6d1354b82e99f713}"
rng = random.Random(5150)
LDI, LDIN, MOV, ADD, XOR, SUB, ADDI, XORI, MULI, ROLI, CMPI, LEN, HALT = (
    0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x30, 0x31, 0xff)
ARGS = {LDI: 2, LDIN: 2, MOV: 2, ADD: 2, XOR: 2, SUB: 2, ADDI: 2, XORI: 2, MULI: 2, ROLI: 2, CMPI: 2, LEN: 1, HALT: 0}
rol = lambda v, n: ((v << n) | (v >> (8 - n))) & 0xff

def run(prog, inp, trace_cmp=None):
    R, pc, bad = [0] * 4, 3, 0
    assert prog[:3] == b"VM1"
    while True:
        op = prog[pc]; a = prog[pc + 1] if ARGS[op] >= 1 else 0; b = prog[pc + 2] if ARGS[op] >= 2 else 0
        pc += 1 + ARGS[op]
        if op == LDI: R[a] = b
        elif op == LDIN: R[a] = inp[b] if b < len(inp) else 0
        elif op == MOV: R[a] = R[b]
        elif op == ADD: R[a] = (R[a] + R[b]) & 0xff
        elif op == XOR: R[a] ^= R[b]
        elif op == SUB: R[a] = (R[a] - R[b]) & 0xff
        elif op == ADDI: R[a] = (R[a] + b) & 0xff
        elif op == XORI: R[a] ^= b
        elif op == MULI: R[a] = (R[a] * b) & 0xff
        elif op == ROLI: R[a] = rol(R[a], b)
        elif op == CMPI:
            if trace_cmp is not None: trace_cmp.append(R[a])
            bad += R[a] != b
        elif op == LEN: R[a] = min(len(inp), 255)
        elif op == HALT: return bad

# build the program; CMPI immediates are filled in by running it on the flag
prog = bytearray(b"VM1")
def emit(*x): prog.extend(x)
emit(LEN, 2); emit(CMPI, 2, len(FLAG))
emit(LDI, 1, rng.randrange(256))
cmp_slots = []
order = list(range(len(FLAG))); rng.shuffle(order)
for idx in order:
    emit(LDIN, 0, idx); emit(MOV, 3, 0)
    for _ in range(rng.randrange(3, 6)):
        k = rng.choice(["xr", "ar", "sr", "ai", "xi", "mi", "ri"])
        if k == "xr": emit(XOR, 0, 1)
        elif k == "ar": emit(ADD, 0, 1)
        elif k == "sr": emit(SUB, 0, 1)
        elif k == "ai": emit(ADDI, 0, rng.randrange(1, 256))
        elif k == "xi": emit(XORI, 0, rng.randrange(1, 256))
        elif k == "mi": emit(MULI, 0, rng.randrange(1, 256) | 1)
        else: emit(ROLI, 0, rng.randrange(1, 8))
    cmp_slots.append(len(prog) + 2); emit(CMPI, 0, 0)
    emit(ADD, 1, 3); emit(ROLI, 1, rng.randrange(1, 8)); emit(XORI, 1, rng.randrange(256))
emit(HALT)
vals = []; run(bytes(prog), FLAG, vals)
for slot, v in zip(cmp_slots, vals[1:]): prog[slot] = v
prog = bytes(prog) + bytes(rng.randrange(256) for _ in range(3))   # padding: fetch() reads 2 bytes past HALT
assert run(prog, FLAG) == 0 and run(prog, FLAG[:-1] + b"!") > 0
enc = bytes(b ^ ((j * 13 + 0x5c) & 0xff) for j, b in enumerate(prog))

src = r'''#include <stdio.h>
#include <string.h>

static const unsigned char code[%d] = {%s};

static unsigned char fetch(unsigned pc) { return code[pc] ^ (unsigned char)(pc * 13 + 0x5c); }

static int run(const unsigned char *in, unsigned n) {
    unsigned char R[4] = {0, 0, 0, 0};
    unsigned pc = 0;
    int bad = 0;
    if (fetch(0) != 'V' || fetch(1) != 'M' || fetch(2) != '1') return -1;
    pc = 3;
    for (;;) {
        unsigned char op = fetch(pc), a = fetch(pc + 1) & 3, b = fetch(pc + 2);
        switch (op) {
        case 0x10: R[a] = b; pc += 3; break;
        case 0x11: R[a] = b < n ? in[b] : 0; pc += 3; break;
        case 0x12: R[a] = R[b & 3]; pc += 3; break;
        case 0x20: R[a] += R[b & 3]; pc += 3; break;
        case 0x21: R[a] ^= R[b & 3]; pc += 3; break;
        case 0x22: R[a] -= R[b & 3]; pc += 3; break;
        case 0x23: R[a] += b; pc += 3; break;
        case 0x24: R[a] ^= b; pc += 3; break;
        case 0x25: R[a] *= b; pc += 3; break;
        case 0x26: R[a] = (unsigned char)(R[a] << (b & 7) | R[a] >> (8 - (b & 7))); pc += 3; break;
        case 0x30: bad += R[a] != b; pc += 3; break;
        case 0x31: R[a] = n > 255 ? 255 : n; pc += 2; break;
        case 0xff: return bad;
        default: return -1;
        }
    }
}

int main(void) {
    char buf[256];
    printf("passphrase: ");
    fflush(stdout);
    if (!fgets(buf, sizeof buf, stdin)) return 1;
    buf[strcspn(buf, "\r\n")] = 0;
    if (run((const unsigned char *)buf, strlen(buf)) == 0) {
        puts("ACCEPTED - the passphrase is the flag");
        return 0;
    }
    puts("REJECTED");
    return 1;
}
''' % (len(enc), ", ".join(f"0x{b:02x}" for b in enc))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm.c"), "w").write(src)
print(len(prog), "bytes of byte code")
