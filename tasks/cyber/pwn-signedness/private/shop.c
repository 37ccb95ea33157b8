/* Sticker shop: the quantity is a signed int, so buying a negative number of stickers pays you. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STICKER_PRICE 25
#define FLAG_PRICE 1000

static int read_line(char *buf, int max) {
    int i = 0;
    char c;
    ssize_t r = 0;
    while (i < max - 1 && (r = read(0, &c, 1)) == 1 && c != '\n')
        buf[i++] = c;
    buf[i] = 0;
    return (r == 1 || i > 0) ? i : -1;
}

static void print_flag(void) {
    char flag[128] = {0};
    FILE *f = fopen("flag.txt", "r");
    if (!f) {
        puts("[flag.txt not found: the flag is only on the server]");
        return;
    }
    if (fgets(flag, sizeof flag, f))
        printf("Your flag: %s\n", flag);
    fclose(f);
}

int main(void) {
    int balance = 100;
    int stickers = 0;
    char line[32];
    setvbuf(stdout, NULL, _IONBF, 0);

    puts("Welcome to the sticker shop!");
    for (;;) {
        printf("\nBalance: %d coins, stickers: %d\n", balance, stickers);
        printf("1) buy stickers (%d coins each)\n2) buy the flag (%d coins)\n3) leave\n> ", STICKER_PRICE, FLAG_PRICE);
        if (read_line(line, sizeof line) < 0)
            break;
        int choice = atoi(line);
        if (choice == 1) {
            printf("How many stickers? ");
            if (read_line(line, sizeof line) < 0)
                break;
            int count = atoi(line);
            if (count == 0) {
                puts("Nothing bought.");
                continue;
            }
            int cost = count * STICKER_PRICE;
            if (cost > balance) {
                puts("You cannot afford that.");
                continue;
            }
            balance -= cost;
            stickers += count;
            printf("You bought %d stickers for %d coins.\n", count, cost);
        } else if (choice == 2) {
            if (balance >= FLAG_PRICE) {
                balance -= FLAG_PRICE;
                print_flag();
            } else {
                puts("Not enough coins for the flag.");
            }
        } else if (choice == 3) {
            puts("Bye!");
            break;
        } else {
            puts("Unknown option.");
        }
    }
    return 0;
}
