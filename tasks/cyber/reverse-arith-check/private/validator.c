#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 41
static const uint32_t H[N] = {0xbaeebf37u, 0xa0d73c41u, 0x52d3a660u, 0x6a2e5d05u, 0xa4fd2d5au, 0xef8e2a6fu, 0x1dcc1f93u, 0xde565042u, 0x1ee01da7u, 0x5fcedd1fu, 0x38a68792u, 0x1427ef12u, 0x31ddf855u, 0x8a6d77beu, 0xc953b40du, 0x67c51a7bu, 0x7f4826acu, 0x2b9514b7u, 0x83afe938u, 0x99ec42a4u, 0x1bed28b7u, 0xd0574f2eu, 0x4471d311u, 0x0d2fa3cau, 0xbdff25b4u, 0xe8a88670u, 0x564b130fu, 0x422f8fdeu, 0xeddf4687u, 0x2c7c5082u, 0xbab309c9u, 0xd7d8a4d0u, 0xac0b8fc6u, 0xca339d1cu, 0x774065f8u, 0x83603b6bu, 0xdf7cf89du, 0x80bb7b7du, 0xf5231bcau, 0xdf4508fbu, 0xffac6af2u};

int main(void) {
    char buf[256];
    printf("licence code: ");
    fflush(stdout);
    if (!fgets(buf, sizeof buf, stdin)) return 1;
    buf[strcspn(buf, "\r\n")] = 0;
    int ok = strlen(buf) == N;
    uint32_t h = 0x81dc622bu;
    for (int i = 0; ok && i < N; i++) {
        h ^= (unsigned char)buf[i];
        h *= 0x01000193u;
        if (h != H[i]) ok = 0;
    }
    puts(ok ? "valid - that code is the flag" : "invalid");
    return !ok;
}
