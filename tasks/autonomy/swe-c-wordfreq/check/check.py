"""Hidden tests for swe-c-wordfreq: builds a copy of /work with make, runs ./wordfreq on generated
inputs against a Python reference, then (if AddressSanitizer works here) rebuilds src/*.c with
-fsanitize=address,undefined and requires clean runs."""
import os, random, re, shutil, subprocess, sys, tempfile
from collections import Counter

ENV = {"PATH": "/usr/bin:/bin", "LANG": "C", "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
       "UBSAN_OPTIONS": "halt_on_error=1"}


def ref(data, argv):
    n = 10
    if argv:
        if len(argv) != 2 or argv[0] != "-n" or not re.fullmatch(r"[0-9]+|\+?[0-9]+", argv[1]):
            return None, 2
        n = int(argv[1])
    c = Counter(w.lower() for w in re.findall(rb"[A-Za-z0-9']+", data))
    items = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    if n: items = items[:n]
    return b"".join(b"%d %s\n" % (v, k) for k, v in items), 0


def inputs(rng):
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"
    seps = [b" ", b"\n", b", ", b".", b"\t", b"--", b"\xc3\xa9", b"\xff", b"\x00", b"(", b"\"", b"\r\n"]
    out = [(b"", []), (b"  ,,, \n", []), (b"b a c b a c a'' ''a A", ["-n", "0"])]
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 9))) for _ in range(6000)]
    for size, nvocab, argv in [(3000, 40, []), (40000, 6000, ["-n", "0"]), (20000, 3000, ["-n", "25"]),
                               (5000, 200, ["-n", "100000"]), (8000, 500, ["-n", "1"])]:
        ws = [vocab[min(int(rng.paretovariate(0.8)) - 1, nvocab - 1)] if rng.random() < 0.5
              else rng.choice(vocab[:nvocab]) for _ in range(size)]
        out.append((b"".join(w.encode() + rng.choice(seps) for w in ws), argv))
    longs = []
    for L in [15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 1000, 4096, 20000]:
        w = "".join(rng.choice(letters) for _ in range(L)).encode()
        longs += [w, w.upper(), b"x" * L]
    rng.shuffle(longs)
    out.append((b" ".join(longs) + b"\n", ["-n", "0"]))
    out.append((b"x" * 16, []))
    out.append((b"Y" * 32, ["-n", "0"]))
    for bad in (["-n", "-1"], ["-n", "abc"], ["-x"], ["-n"], ["-n", ""], ["-n", "3x"]):
        out.append((b"a b c\n", bad))
    return out


def run(binary, data, argv, cwd):
    try:
        r = subprocess.run([binary] + argv, input=data, cwd=cwd, env=ENV, capture_output=True, timeout=60)
        return r.stdout, r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        return b"", -999, b"timeout"


def asan_works(tmp):
    src = os.path.join(tmp, "probe.c")
    open(src, "w").write("#include <stdlib.h>\nint main(void){char*p=malloc(4);p[1]=0;free(p);return 0;}\n")
    b = subprocess.run(["gcc", "-fsanitize=address,undefined", "-o", os.path.join(tmp, "probe"), src],
                       env=ENV, capture_output=True)
    return b.returncode == 0 and subprocess.run([os.path.join(tmp, "probe")], env=ENV, capture_output=True).returncode == 0


def main():
    rng = random.Random(4242)
    tmp = tempfile.mkdtemp()
    build = os.path.join(tmp, "w")
    shutil.copytree(os.getcwd(), build, symlinks=True)
    for dp, _, fs in os.walk(build):
        for f in fs:
            if f.endswith(".o") or f == "wordfreq" and dp == build:
                os.remove(os.path.join(dp, f))
    b = subprocess.run(["make"], cwd=build, env=ENV, capture_output=True, text=True, timeout=300)
    binary = os.path.join(build, "wordfreq")
    if b.returncode != 0 or not os.path.exists(binary):
        print("FAIL: make did not build ./wordfreq:", (b.stdout + b.stderr)[-1500:]); sys.exit(1)
    cases = inputs(rng)
    bad = 0
    for data, argv in cases:
        want, want_rc = ref(data, argv)
        got, rc, err = run(binary, data, argv, build)
        if rc != want_rc or want_rc == 0 and got != want:
            bad += 1
            if bad <= 4:
                print(f"FAIL wordfreq {' '.join(argv)} on {len(data)} bytes: rc {rc} (want {want_rc}); "
                      f"got {got[:120]!r}... want {(want or b'')[:120]!r}...")
    print(f"{len(cases) - bad}/{len(cases)} hidden runs correct")
    if bad: sys.exit(1)
    if not asan_works(tmp):
        print("note: AddressSanitizer unavailable here; skipped the sanitizer runs"); sys.exit(0)
    srcs = sorted(os.path.join(build, "src", f) for f in os.listdir(os.path.join(build, "src")) if f.endswith(".c"))
    asan = os.path.join(tmp, "wordfreq-asan")
    b = subprocess.run(["gcc", "-std=c11", "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                        "-I", os.path.join(build, "src"), "-o", asan] + srcs, env=ENV, capture_output=True, text=True)
    if b.returncode != 0:
        print("FAIL: src/*.c does not build with -fsanitize=address:", b.stderr[-1500:]); sys.exit(1)
    for data, argv in cases:
        got, rc, err = run(asan, data, argv, build)
        if b"Sanitizer" in err or b"runtime error" in err or rc not in (0, 2):
            print(f"FAIL: memory error under AddressSanitizer on {len(data)} bytes with {argv}:\n",
                  err.decode("utf-8", "replace")[:1500]); sys.exit(1)
    print("sanitizer runs clean")


main()
